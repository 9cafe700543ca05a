//! Browser sessions on the wire: the cookies (`__Host-` prefixed and `Secure` when the public
//! URL is https, always `HttpOnly` and `SameSite=Lax`), and the CSRF check every
//! state-changing request made with a session cookie must pass: same-origin by `Origin` and
//! `Sec-Fetch-Site`, and the session's token in `X-CSRF-Token`.

use crate::error::ApiError;
use crate::state::ApiState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use cookie::{Cookie, SameSite};

/// Header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session cookie's name for this deployment.
pub fn session_cookie(state: &ApiState) -> &'static str {
    if secure(state) {
        "__Host-consulate-session"
    } else {
        "consulate-session"
    }
}

/// The sign-in flow cookie's name (before a session exists).
pub fn flow_cookie(state: &ApiState) -> &'static str {
    if secure(state) {
        "__Host-consulate-flow"
    } else {
        "consulate-flow"
    }
}

fn secure(state: &ApiState) -> bool {
    state.public_url.starts_with("https://")
}

/// A cookie's value from the request, if sent (the first one of that name).
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| Cookie::parse(c.trim().to_owned()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A `Set-Cookie` value; `max_age` of zero clears it.
pub fn set_cookie(state: &ApiState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let c = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(secure(state))
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&c.to_string()).expect("cookie values are header-safe")
}

/// Refuses a state-changing request made with a session cookie unless it comes from this
/// origin and carries the session's CSRF token.
pub fn check_csrf(
    state: &ApiState,
    method: &Method,
    headers: &HeaderMap,
    session: &consulate_store::sign_in::SessionRecord,
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let token = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    check_origin_and_token(state, headers, session, token)
}

/// Refuses a sign-in step posted from another site (login CSRF: signing a victim's browser
/// in as the attacker). There is no session yet, so origin is all there is to check; clients
/// that send neither `Origin` nor `Sec-Fetch-Site` (scripts) pass.
pub fn check_same_origin(state: &ApiState, headers: &HeaderMap) -> Result<(), ApiError> {
    let refuse = refused;
    // Browsers that send Sec-Fetch-Site say it outright (their Origin may be `null` under a
    // strict referrer policy); older ones are judged by Origin.
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin" | "none") => {}
        Some(_) => return Err(refuse("it came from another site")),
        None => {
            if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok())
                && origin.trim_end_matches('/') != public_origin(&state.public_url)
            {
                return Err(refuse("it came from another origin"));
            }
        }
    }
    Ok(())
}

/// The same check for a browser form: same origin, and the session's token (sent as a form
/// field rather than a header).
pub fn check_origin_and_token(
    state: &ApiState,
    headers: &HeaderMap,
    session: &consulate_store::sign_in::SessionRecord,
    token: &str,
) -> Result<(), ApiError> {
    check_same_origin(state, headers)?;
    if !consulate_app::App::csrf_matches(session, token) {
        return Err(refused("the CSRF token is missing or wrong"));
    }
    Ok(())
}

fn refused(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrfCheckFailed",
        format!("The request was refused: {why}."),
    )
}

/// `scheme://host[:port]` of the public URL.
fn public_origin(url: &str) -> &str {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find('/') {
        Some(i) => &url[..after + i],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_of_a_public_url() {
        assert_eq!(
            public_origin("https://consulate.example/base"),
            "https://consulate.example"
        );
        assert_eq!(
            public_origin("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; consulate-session=css_x; b=2"),
        );
        assert_eq!(
            read_cookie(&h, "consulate-session").as_deref(),
            Some("css_x")
        );
        assert_eq!(read_cookie(&h, "missing"), None);
    }
}
