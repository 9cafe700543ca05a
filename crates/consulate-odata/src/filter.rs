//! `$filter` parser: recursive descent over the token list, bounded in nodes, tree depth and
//! recursion depth.
//!
//! Grammar (keywords case-insensitive):
//!
//! ```text
//! or_expr    = and_expr *( "or" and_expr )
//! and_expr   = comparison *( "and" comparison )
//! comparison = unary [ ( "eq" / "ne" / "gt" / "ge" / "lt" / "le" ) unary
//!                    / "in" "(" literal *( "," literal ) ")" ]
//! unary      = *"not" primary
//! primary    = "(" or_expr ")" / literal / function "(" [ or_expr *( "," or_expr ) ] ")"
//!            / path [ "/" ( "any" / "all" ) "(" [ identifier ":" or_expr ] ")" ]
//! path       = identifier *( "/" identifier )      ; identifiers may be dotted
//! ```
//!
//! `all()` needs a variable and a condition; a bare `any()` is allowed. Spaces are not allowed
//! around the `/` of a path.
//!
//! Each node is counted when the token that introduces it is consumed (the operator, for
//! binary expressions), so the count grows left to right and a runaway input stops at node
//! `MAX_NODES + 1` without reading further. Runs of `not` are parsed in a loop; the only
//! recursion is through parentheses, function arguments and lambda bodies, and it is capped at
//! [`MAX_FRAMES`]. Tree depth is computed bottom-up and checked as each node is built.

use crate::ast::{CompareOp, Expr, LambdaKind, Literal};
use crate::lexer::{Tok, Token, tokenize};
use crate::{MAX_DEPTH, MAX_NODES, MAX_OPTION_LEN, ParseError, excerpt};

/// Cap on nested parentheses, function calls and lambdas. Each level of a tree within
/// [`MAX_DEPTH`] needs at most one construct and one pair of grouping parentheses, so this only
/// rejects redundant parentheses around an already deep tree.
const MAX_FRAMES: usize = 2 * MAX_DEPTH + 2;

/// Known functions with their minimum and maximum argument counts.
const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("contains", 2, 2),
    ("startswith", 2, 2),
    ("endswith", 2, 2),
    ("tolower", 1, 1),
    ("toupper", 1, 1),
    ("trim", 1, 1),
    ("length", 1, 1),
    ("indexof", 2, 2),
    ("substring", 2, 3),
    ("concat", 2, 2),
];

/// Words that cannot start an operand.
const RESERVED: &[&str] = &["and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "in"];

/// Parses a `$filter` value (already percent-decoded) into an expression tree.
pub fn parse_filter(input: &str) -> Result<Expr, ParseError> {
    if input.len() > MAX_OPTION_LEN {
        return Err(ParseError::new(
            format!("filter is longer than {MAX_OPTION_LEN} bytes"),
            MAX_OPTION_LEN,
        ));
    }
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return Err(ParseError::new("filter is empty", 0));
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        nodes: 0,
        frames: 0,
        end: input.len(),
    };
    let root = parser.or_expr()?;
    if let Some(token) = parser.peek() {
        return Err(ParseError::new(
            format!(
                "expected 'and', 'or' or end of input, found {}",
                token.tok.describe()
            ),
            token.pos,
        ));
    }
    Ok(root.expr)
}

/// An expression with the height of its tree.
struct Node {
    expr: Expr,
    height: usize,
}

impl Node {
    fn leaf(expr: Expr) -> Self {
        Self { expr, height: 1 }
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    nodes: usize,
    frames: usize,
    /// Input length: the position reported for "end of input".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_tok(&self, ahead: usize) -> Option<&Tok> {
        self.tokens.get(self.pos + ahead).map(|t| &t.tok)
    }

    /// Position of the next token, or the end of input.
    fn here(&self) -> usize {
        self.peek().map_or(self.end, |t| t.pos)
    }

    fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "end of input".to_owned(), |t| t.tok.describe())
    }

    /// True if the next token is the (undotted) keyword `word`, in any case.
    fn at_keyword(&self, word: &str) -> bool {
        matches!(self.peek_tok(0), Some(Tok::Ident(name)) if name.eq_ignore_ascii_case(word))
    }

    /// Consumes the next token and returns its position.
    fn bump(&mut self) -> usize {
        let pos = self.here();
        self.pos += 1;
        pos
    }

    fn expect(&mut self, want: &Tok) -> Result<usize, ParseError> {
        if self.peek_tok(0) == Some(want) {
            Ok(self.bump())
        } else {
            Err(ParseError::new(
                format!("expected {}, found {}", want.describe(), self.found()),
                self.here(),
            ))
        }
    }

    /// Counts one node starting at `pos` against [`MAX_NODES`].
    fn count(&mut self, pos: usize) -> Result<(), ParseError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ParseError::new(
                format!("filter has more than {MAX_NODES} nodes"),
                pos,
            ));
        }
        Ok(())
    }

    fn enter(&mut self, pos: usize) -> Result<(), ParseError> {
        self.frames += 1;
        if self.frames > MAX_FRAMES {
            return Err(ParseError::new("filter is nested too deeply", pos));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.frames -= 1;
    }

    /// Wraps a compound expression whose children have maximum height `child_height`,
    /// enforcing [`MAX_DEPTH`].
    fn build(expr: Expr, child_height: usize, pos: usize) -> Result<Node, ParseError> {
        let height = child_height + 1;
        if height > MAX_DEPTH {
            return Err(ParseError::new(
                format!("filter is nested more than {MAX_DEPTH} levels deep"),
                pos,
            ));
        }
        Ok(Node { expr, height })
    }

    fn or_expr(&mut self) -> Result<Node, ParseError> {
        let mut left = self.and_expr()?;
        while self.at_keyword("or") {
            let pos = self.bump();
            self.count(pos)?;
            let right = self.and_expr()?;
            let h = left.height.max(right.height);
            left = Self::build(Expr::Or(Box::new(left.expr), Box::new(right.expr)), h, pos)?;
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Node, ParseError> {
        let mut left = self.comparison()?;
        while self.at_keyword("and") {
            let pos = self.bump();
            self.count(pos)?;
            let right = self.comparison()?;
            let h = left.height.max(right.height);
            left = Self::build(Expr::And(Box::new(left.expr), Box::new(right.expr)), h, pos)?;
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Node, ParseError> {
        let left = self.unary()?;
        let op = match self.peek_tok(0) {
            Some(Tok::Ident(word)) => CompareOp::from_keyword(word),
            _ => None,
        };
        if let Some(op) = op {
            let pos = self.bump();
            self.count(pos)?;
            let right = self.unary()?;
            let h = left.height.max(right.height);
            let expr = Expr::Compare {
                op,
                left: Box::new(left.expr),
                right: Box::new(right.expr),
            };
            return Self::build(expr, h, pos);
        }
        if self.at_keyword("in") {
            let pos = self.bump();
            self.count(pos)?;
            let list = self.literal_list()?;
            let expr = Expr::In {
                left: Box::new(left.expr),
                list,
            };
            return Self::build(expr, left.height.max(1), pos);
        }
        Ok(left)
    }

    /// `( literal *( "," literal ) )`, each item counted as a node.
    fn literal_list(&mut self) -> Result<Vec<Expr>, ParseError> {
        self.expect(&Tok::LParen)?;
        let mut list = Vec::new();
        loop {
            let literal = self.peek().and_then(|t| literal_of(&t.tok));
            let Some(literal) = literal else {
                return Err(ParseError::new(
                    format!("expected a literal in 'in' list, found {}", self.found()),
                    self.here(),
                ));
            };
            let pos = self.bump();
            self.count(pos)?;
            list.push(Expr::Literal(literal));
            match self.peek_tok(0) {
                Some(Tok::Comma) => {
                    self.bump();
                }
                Some(Tok::RParen) => {
                    self.bump();
                    return Ok(list);
                }
                _ => {
                    return Err(ParseError::new(
                        format!("expected ',' or ')', found {}", self.found()),
                        self.here(),
                    ));
                }
            }
        }
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        // Iterative: `not not not ...` never recurses; the node limit ends long runs.
        let mut nots = Vec::new();
        while self.at_keyword("not") {
            let pos = self.bump();
            self.count(pos)?;
            nots.push(pos);
        }
        let mut node = self.primary()?;
        for pos in nots.into_iter().rev() {
            node = Self::build(Expr::Not(Box::new(node.expr)), node.height, pos)?;
        }
        Ok(node)
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let Some(token) = self.peek() else {
            return Err(ParseError::new(
                "expected an expression, found end of input",
                self.end,
            ));
        };
        let pos = token.pos;
        if let Some(literal) = literal_of(&token.tok) {
            self.bump();
            self.count(pos)?;
            return Ok(Node::leaf(Expr::Literal(literal)));
        }
        match &token.tok {
            Tok::LParen => {
                self.enter(pos)?;
                self.bump();
                let inner = self.or_expr()?;
                self.expect(&Tok::RParen)?;
                self.leave();
                Ok(inner)
            }
            Tok::Ident(name) => {
                let name = name.clone();
                if !name.contains('.') {
                    let lower = name.to_ascii_lowercase();
                    if RESERVED.contains(&lower.as_str()) {
                        return Err(ParseError::new(
                            format!("expected an expression, found keyword '{lower}'"),
                            pos,
                        ));
                    }
                    if self.peek_tok(1) == Some(&Tok::LParen) {
                        return self.call(&name, lower, pos);
                    }
                }
                self.path(name, pos)
            }
            other => Err(ParseError::new(
                format!("expected an expression, found {}", other.describe()),
                pos,
            )),
        }
    }

    /// `name ( args )`, with the name token next.
    fn call(&mut self, name: &str, lower: String, pos: usize) -> Result<Node, ParseError> {
        let Some(&(_, min, max)) = FUNCTIONS.iter().find(|f| f.0 == lower) else {
            return Err(ParseError::new(
                format!("unknown function '{}'", excerpt(name)),
                pos,
            ));
        };
        self.count(pos)?;
        self.bump();
        let open = self.bump();
        self.enter(open)?;
        let mut args = Vec::new();
        let mut h = 0;
        if self.peek_tok(0) == Some(&Tok::RParen) {
            self.bump();
        } else {
            loop {
                let arg = self.or_expr()?;
                h = h.max(arg.height);
                args.push(arg.expr);
                match self.peek_tok(0) {
                    Some(Tok::Comma) => {
                        self.bump();
                    }
                    Some(Tok::RParen) => {
                        self.bump();
                        break;
                    }
                    _ => {
                        return Err(ParseError::new(
                            format!("expected ',' or ')', found {}", self.found()),
                            self.here(),
                        ));
                    }
                }
            }
        }
        self.leave();
        if args.len() < min || args.len() > max {
            let expected = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(ParseError::new(
                format!(
                    "function '{lower}' takes {expected} argument{}, found {}",
                    if max == 1 { "" } else { "s" },
                    args.len()
                ),
                pos,
            ));
        }
        Self::build(Expr::Call { name: lower, args }, h, pos)
    }

    /// A member path, possibly ending in a lambda; the first segment's token is next.
    fn path(&mut self, first: String, pos: usize) -> Result<Node, ParseError> {
        self.count(pos)?;
        self.bump();
        let mut segments = vec![first];
        let mut seg_end = self.tokens[self.pos - 1].end;
        while let Some(slash) = self.peek().filter(|t| t.tok == Tok::Slash) {
            let slash_end = slash.end;
            if slash.pos != seg_end {
                return Err(ParseError::new("unexpected space before '/'", seg_end));
            }
            self.bump();
            let segment = match self.peek() {
                Some(Token {
                    tok: Tok::Ident(segment),
                    pos,
                    ..
                }) if *pos == slash_end => segment,
                _ => {
                    return Err(ParseError::new(
                        "expected a property name directly after '/'",
                        slash_end,
                    ));
                }
            };
            let kind = if segment.eq_ignore_ascii_case("any") {
                Some(LambdaKind::Any)
            } else if segment.eq_ignore_ascii_case("all") {
                Some(LambdaKind::All)
            } else {
                None
            };
            if let Some(kind) = kind
                && self.peek_tok(1) == Some(&Tok::LParen)
            {
                return self.lambda(kind, segments, pos);
            }
            let segment = segment.clone();
            seg_end = self.tokens[self.pos].end;
            self.bump();
            segments.push(segment);
        }
        Ok(Node::leaf(Expr::Path(segments)))
    }

    /// `any ( [ variable : body ] )`, with the `any`/`all` token next. The node itself was
    /// counted as a path.
    fn lambda(
        &mut self,
        kind: LambdaKind,
        collection: Vec<String>,
        pos: usize,
    ) -> Result<Node, ParseError> {
        let keyword = self.bump();
        let open = self.bump();
        self.enter(open)?;
        let (variable, body) = if self.peek_tok(0) == Some(&Tok::RParen) {
            if kind == LambdaKind::All {
                return Err(ParseError::new(
                    "all() needs a variable and a condition",
                    keyword,
                ));
            }
            let close = self.bump();
            self.count(close)?;
            (
                String::new(),
                Node::leaf(Expr::Literal(Literal::Bool(true))),
            )
        } else {
            let variable = match self.peek_tok(0) {
                Some(Tok::Ident(name))
                    if !name.contains('.')
                        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
                        && literal_of(&Tok::Ident(name.clone())).is_none() =>
                {
                    name.clone()
                }
                _ => {
                    return Err(ParseError::new(
                        format!("expected a lambda variable name, found {}", self.found()),
                        self.here(),
                    ));
                }
            };
            self.bump();
            self.expect(&Tok::Colon)?;
            let body = self.or_expr()?;
            self.expect(&Tok::RParen)?;
            (variable, body)
        };
        self.leave();
        let h = body.height;
        let expr = Expr::Lambda {
            kind,
            collection,
            variable,
            body: Box::new(body.expr),
        };
        Self::build(expr, h, pos)
    }
}

/// The literal a token denotes, if it is one (`true`, `false` and `null` in any case).
fn literal_of(tok: &Tok) -> Option<Literal> {
    Some(match tok {
        Tok::Str(s) => Literal::String(s.clone()),
        Tok::Int(v) => Literal::Int(*v),
        Tok::Float(v) => Literal::Float(*v),
        Tok::Guid(s) => Literal::Guid(s.clone()),
        Tok::DateTime(s) => Literal::DateTime(s.clone()),
        Tok::Ident(word) if word.eq_ignore_ascii_case("true") => Literal::Bool(true),
        Tok::Ident(word) if word.eq_ignore_ascii_case("false") => Literal::Bool(false),
        Tok::Ident(word) if word.eq_ignore_ascii_case("null") => Literal::Null,
        _ => return None,
    })
}
