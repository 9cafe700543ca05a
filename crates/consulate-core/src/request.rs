//! What a request for an access package must carry under its policy: the justification, the
//! answers to the policy's questions, and the schedule of the assignment it asks for.
//! Pure checks; the lifecycle engine calls them when a request is submitted.

use crate::policy::{AssignmentPolicy, Expiration, QuestionKind};
use crate::{DomainError, DomainResult, Timestamp};
use uuid::Uuid;

/// Longest justification or text answer accepted.
pub const MAX_TEXT: usize = 4000;
/// How far in the past a requested start may lie (clock skew between client and server).
pub const START_SKEW_SECONDS: i64 = 300;

/// `requestType` of an assignment request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestType {
    UserAdd,
    UserUpdate,
    UserRemove,
    AdminAdd,
    AdminUpdate,
    AdminRemove,
    SystemAdd,
    SystemUpdate,
    SystemRemove,
}

impl RequestType {
    pub const ALL: [RequestType; 9] = [
        Self::UserAdd,
        Self::UserUpdate,
        Self::UserRemove,
        Self::AdminAdd,
        Self::AdminUpdate,
        Self::AdminRemove,
        Self::SystemAdd,
        Self::SystemUpdate,
        Self::SystemRemove,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserAdd => "userAdd",
            Self::UserUpdate => "userUpdate",
            Self::UserRemove => "userRemove",
            Self::AdminAdd => "adminAdd",
            Self::AdminUpdate => "adminUpdate",
            Self::AdminRemove => "adminRemove",
            Self::SystemAdd => "systemAdd",
            Self::SystemUpdate => "systemUpdate",
            Self::SystemRemove => "systemRemove",
        }
    }

    pub fn parse(s: &str) -> DomainResult<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                DomainError::invalid(
                    "requestType",
                    format!(
                        "'{s}' is not a request type; use userAdd, userUpdate, userRemove, adminAdd, adminUpdate or adminRemove"
                    ),
                )
            })
    }

    /// A request the target makes for themselves.
    pub fn is_user(self) -> bool {
        matches!(self, Self::UserAdd | Self::UserUpdate | Self::UserRemove)
    }

    /// An extension of an existing assignment.
    pub fn is_update(self) -> bool {
        matches!(
            self,
            Self::UserUpdate | Self::AdminUpdate | Self::SystemUpdate
        )
    }

    /// A request that asks for (more) access, rather than removing it.
    pub fn adds_access(self) -> bool {
        !matches!(
            self,
            Self::UserRemove | Self::AdminRemove | Self::SystemRemove
        )
    }
}

/// An answer to one of the policy's questions (`accessPackageAnswerString`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    pub question_id: Uuid,
    /// The text, or a choice's `actualValue`.
    pub value: String,
    pub display_value: String,
}

/// When the requested assignment starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub start: Timestamp,
    pub end: Option<Timestamp>,
}

/// A schedule a requestor asks for (`schedule` of the request).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestedSchedule {
    pub start: Option<Timestamp>,
    pub expiration: Option<Expiration>,
}

/// A justification where no policy asks for one: trimmed and bounded.
pub fn justification_text(justification: Option<&str>) -> DomainResult<String> {
    let j = justification.unwrap_or("").trim();
    if j.chars().count() > MAX_TEXT {
        return Err(DomainError::invalid(
            "justification",
            format!("the justification is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(j.to_owned())
}

/// Checks the justification: bounded, and present when the policy requires one of requestors.
pub fn check_justification(
    policy: &AssignmentPolicy,
    request_type: RequestType,
    justification: Option<&str>,
) -> DomainResult<String> {
    let j = justification_text(justification)?;
    if j.is_empty()
        && policy.approval_settings.is_requestor_justification_required
        && matches!(request_type, RequestType::UserAdd | RequestType::UserUpdate)
    {
        return Err(DomainError::invalid(
            "justification",
            "this access package's policy asks requestors for a justification",
        ));
    }
    Ok(j)
}

/// Checks the answers against the policy's questions: every required question answered, every
/// answer to a question of the policy, choices among the offered values, text matching the
/// question's pattern. Returns the answers with their display values filled in.
pub fn check_answers(policy: &AssignmentPolicy, answers: &[Answer]) -> DomainResult<Vec<Answer>> {
    let mut out = Vec::with_capacity(answers.len());
    for (i, a) in answers.iter().enumerate() {
        let q = policy
            .questions
            .iter()
            .find(|q| q.id == a.question_id)
            .ok_or_else(|| {
                DomainError::invalid(
                    "answers.answeredQuestion",
                    format!("question {} is not asked by this policy", a.question_id),
                )
            })?;
        let repeated = answers[..i].iter().any(|o| o.question_id == a.question_id);
        let value = a.value.trim();
        if value.chars().count() > MAX_TEXT {
            return Err(DomainError::invalid(
                "answers.value",
                format!(
                    "the answer to '{}' is longer than {MAX_TEXT} characters",
                    q.text
                ),
            ));
        }
        let display_value = match &q.kind {
            QuestionKind::Text {
                is_single_line_question,
                regex_pattern,
            } => {
                if repeated {
                    return Err(DomainError::invalid(
                        "answers",
                        format!("'{}' is answered twice", q.text),
                    ));
                }
                if *is_single_line_question && value.contains('\n') {
                    return Err(DomainError::invalid(
                        "answers.value",
                        format!("the answer to '{}' must be a single line", q.text),
                    ));
                }
                if let Some(p) = regex_pattern
                    && !value.is_empty()
                {
                    // The whole answer must match, not a part of it.
                    let re = regex_lite::Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                        DomainError::invalid(
                            "answers",
                            format!("the question's pattern does not compile: {e}"),
                        )
                    })?;
                    if !re.is_match(value) {
                        return Err(DomainError::invalid(
                            "answers.value",
                            format!("the answer to '{}' does not have the expected form", q.text),
                        ));
                    }
                }
                value.to_owned()
            }
            QuestionKind::MultipleChoice {
                is_multiple_selection_allowed,
                choices,
            } => {
                if repeated && !is_multiple_selection_allowed {
                    return Err(DomainError::invalid(
                        "answers",
                        format!("'{}' takes one choice", q.text),
                    ));
                }
                if repeated
                    && answers[..i]
                        .iter()
                        .any(|o| o.question_id == a.question_id && o.value.trim() == value)
                {
                    return Err(DomainError::invalid(
                        "answers",
                        format!("'{value}' is chosen twice for '{}'", q.text),
                    ));
                }
                let choice = choices
                    .iter()
                    .find(|c| c.actual_value == value)
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "answers.value",
                            format!(
                                "'{value}' is not a choice of '{}'; choose one of {}",
                                q.text,
                                choices
                                    .iter()
                                    .map(|c| c.actual_value.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                    })?;
                choice.text.clone()
            }
        };
        out.push(Answer {
            question_id: a.question_id,
            value: value.to_owned(),
            display_value,
        });
    }
    for q in policy.questions.iter().filter(|q| q.is_required) {
        if !out
            .iter()
            .any(|a| a.question_id == q.id && !a.value.is_empty())
        {
            return Err(DomainError::invalid(
                "answers",
                format!("'{}' must be answered", q.text),
            ));
        }
    }
    Ok(out)
}

/// The end an expiration pattern gives an assignment starting at `start`.
fn end_of(expiration: &Expiration, start: Timestamp) -> DomainResult<Option<Timestamp>> {
    Ok(match expiration {
        Expiration::NotSpecified | Expiration::NoExpiration => None,
        Expiration::AfterDateTime(t) => Some(*t),
        Expiration::AfterDuration(d) => Some(
            start
                .to_zoned(jiff::tz::TimeZone::UTC)
                .checked_add(d.span())
                .map_err(|e| {
                    DomainError::invalid(
                        "expiration.duration",
                        format!("the end is out of range: {e}"),
                    )
                })?
                .timestamp(),
        ),
    })
}

/// The schedule of the assignment a request asks for. Without a requested schedule it starts
/// now and ends as the policy says. A requested schedule needs `allowCustomAssignmentSchedule`
/// (for the target's own requests; administrators may always set one), may start later, and
/// may not end after the policy's end.
pub fn assignment_schedule(
    policy: &AssignmentPolicy,
    request_type: RequestType,
    requested: Option<&RequestedSchedule>,
    now: Timestamp,
) -> DomainResult<Schedule> {
    let Some(req) = requested.filter(|r| r.start.is_some() || r.expiration.is_some()) else {
        let end = end_of(&policy.expiration, now)?;
        if end.is_some_and(|e| e <= now) {
            return Err(DomainError::invalid(
                "schedule",
                "the policy's assignments end at a date that has passed",
            ));
        }
        return Ok(Schedule { start: now, end });
    };
    if request_type.is_user() && !policy.requestor_settings.allow_custom_assignment_schedule {
        return Err(DomainError::invalid(
            "schedule",
            "this access package's policy does not let requestors choose a schedule",
        ));
    }
    let start = match req.start {
        Some(s) if s.as_second() < now.as_second() - START_SKEW_SECONDS => {
            return Err(DomainError::invalid(
                "schedule.startDateTime",
                "startDateTime is in the past",
            ));
        }
        Some(s) => s.max(now),
        None => now,
    };
    let policy_end = end_of(&policy.expiration, start)?;
    let end = match &req.expiration {
        Some(e) => end_of(e, start)?.or(policy_end),
        None => policy_end,
    };
    if let (Some(end), Some(limit)) = (end, policy_end)
        && end > limit
    {
        return Err(DomainError::invalid(
            "schedule.expiration",
            format!("the assignment may not last beyond {limit}, as the policy says"),
        ));
    }
    if let Some(end) = end
        && end <= start
    {
        return Err(DomainError::invalid(
            "schedule.expiration",
            "the assignment would end before it starts",
        ));
    }
    Ok(Schedule { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{
        AllowedTargetScope, AnswerChoice, ApprovalSettings, IsoDuration, Question,
        RequestorSettings,
    };

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn policy() -> AssignmentPolicy {
        AssignmentPolicy {
            id: Uuid::nil(),
            access_package_id: Uuid::nil(),
            catalog_id: Uuid::nil(),
            display_name: "p".into(),
            description: String::new(),
            allowed_target_scope: AllowedTargetScope::AllMemberUsers,
            specific_allowed_targets: Vec::new(),
            expiration: Expiration::AfterDuration(IsoDuration::parse("d", "P365D").unwrap()),
            requestor_settings: RequestorSettings {
                enable_targets_to_self_add_access: true,
                ..Default::default()
            },
            approval_settings: ApprovalSettings {
                is_requestor_justification_required: true,
                ..Default::default()
            },
            review_settings: None,
            automatic_request_settings: None,
            is_assignment_notification_disabled: false,
            questions: vec![
                Question {
                    id: Uuid::from_u128(1),
                    text: "Office?".into(),
                    sequence: 1,
                    is_required: true,
                    is_answer_editable: false,
                    localizations: Vec::new(),
                    kind: QuestionKind::MultipleChoice {
                        is_multiple_selection_allowed: false,
                        choices: vec![
                            AnswerChoice {
                                actual_value: "oslo".into(),
                                text: "Oslo".into(),
                                localizations: Vec::new(),
                            },
                            AnswerChoice {
                                actual_value: "paris".into(),
                                text: "Paris".into(),
                                localizations: Vec::new(),
                            },
                        ],
                    },
                },
                Question {
                    id: Uuid::from_u128(2),
                    text: "Ticket?".into(),
                    sequence: 2,
                    is_required: false,
                    is_answer_editable: false,
                    localizations: Vec::new(),
                    kind: QuestionKind::Text {
                        is_single_line_question: true,
                        regex_pattern: Some("^[A-Z]{3}-[0-9]+$".into()),
                    },
                },
            ],
            created_date_time: at("2026-01-01T00:00:00Z"),
            modified_date_time: at("2026-01-01T00:00:00Z"),
            version: 1,
        }
    }

    fn answer(q: u128, v: &str) -> Answer {
        Answer {
            question_id: Uuid::from_u128(q),
            value: v.into(),
            display_value: String::new(),
        }
    }

    #[test]
    fn justification_when_the_policy_asks() {
        let p = policy();
        assert!(check_justification(&p, RequestType::UserAdd, None).is_err());
        assert!(check_justification(&p, RequestType::UserAdd, Some("  ")).is_err());
        assert_eq!(
            check_justification(&p, RequestType::UserAdd, Some(" project X ")).unwrap(),
            "project X"
        );
        assert!(check_justification(&p, RequestType::AdminAdd, None).is_ok());
        assert!(
            check_justification(&p, RequestType::UserAdd, Some(&"x".repeat(MAX_TEXT + 1))).is_err()
        );
    }

    #[test]
    fn answers_follow_the_questions() {
        let p = policy();
        let ok = check_answers(&p, &[answer(1, "oslo"), answer(2, "ABC-12")]).unwrap();
        assert_eq!(ok[0].display_value, "Oslo");
        assert!(check_answers(&p, &[]).is_err(), "a required question");
        assert!(
            check_answers(&p, &[answer(1, "rome")]).is_err(),
            "not a choice"
        );
        assert!(
            check_answers(&p, &[answer(1, "oslo"), answer(1, "paris")]).is_err(),
            "one choice only"
        );
        assert!(
            check_answers(&p, &[answer(1, "oslo"), answer(2, "abc")]).is_err(),
            "pattern"
        );
        assert!(
            check_answers(&p, &[answer(1, "oslo"), answer(2, "ABC-1\nx")]).is_err(),
            "one line"
        );
        assert!(
            check_answers(&p, &[answer(1, "oslo"), answer(9, "x")]).is_err(),
            "unknown question"
        );
    }

    #[test]
    fn schedules_follow_the_policy() {
        let mut p = policy();
        let now = at("2026-03-01T12:00:00Z");
        let s = assignment_schedule(&p, RequestType::UserAdd, None, now).unwrap();
        assert_eq!(s.start, now);
        assert_eq!(s.end, Some(at("2027-03-01T12:00:00Z")));
        let later = RequestedSchedule {
            start: Some(at("2026-04-01T00:00:00Z")),
            expiration: Some(Expiration::AfterDuration(
                IsoDuration::parse("d", "P30D").unwrap(),
            )),
        };
        assert!(
            assignment_schedule(&p, RequestType::UserAdd, Some(&later), now).is_err(),
            "not allowed"
        );
        let s = assignment_schedule(&p, RequestType::AdminAdd, Some(&later), now).unwrap();
        assert_eq!(
            (s.start, s.end),
            (at("2026-04-01T00:00:00Z"), Some(at("2026-05-01T00:00:00Z")))
        );
        p.requestor_settings.allow_custom_assignment_schedule = true;
        assert!(assignment_schedule(&p, RequestType::UserAdd, Some(&later), now).is_ok());
        let too_long = RequestedSchedule {
            start: None,
            expiration: Some(Expiration::AfterDuration(
                IsoDuration::parse("d", "P400D").unwrap(),
            )),
        };
        assert!(assignment_schedule(&p, RequestType::UserAdd, Some(&too_long), now).is_err());
        let past = RequestedSchedule {
            start: Some(at("2026-02-01T00:00:00Z")),
            expiration: None,
        };
        assert!(assignment_schedule(&p, RequestType::UserAdd, Some(&past), now).is_err());
        p.expiration = Expiration::NoExpiration;
        assert_eq!(
            assignment_schedule(&p, RequestType::UserAdd, None, now)
                .unwrap()
                .end,
            None
        );
        p.expiration = Expiration::AfterDateTime(at("2026-06-01T00:00:00Z"));
        let s = assignment_schedule(&p, RequestType::UserAdd, None, now).unwrap();
        assert_eq!(s.end, Some(at("2026-06-01T00:00:00Z")));
        p.expiration = Expiration::AfterDateTime(at("2026-02-01T00:00:00Z"));
        assert!(
            assignment_schedule(&p, RequestType::UserAdd, None, now).is_err(),
            "ended already"
        );
    }

    #[test]
    fn request_types_parse() {
        for t in RequestType::ALL {
            assert_eq!(RequestType::parse(t.as_str()).unwrap(), t);
        }
        assert!(RequestType::parse("approverRemove").is_err());
        assert!(RequestType::UserAdd.is_user() && RequestType::UserAdd.adds_access());
        assert!(!RequestType::AdminRemove.adds_access());
    }
}
