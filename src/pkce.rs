//! The authorization-code flow's client side: PKCE ([RFC 7636](https://www.rfc-editor.org/rfc/rfc7636))
//! and the authorization request's query ([RFC 6749 §4.1.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1)).

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::Error;
use crate::form::Form;

/// A verifier from 32 random bytes: base64url without padding, 43 characters of the RFC 7636
/// alphabet (256 bits of entropy, the RFC's recommendation).
pub fn verifier_from(random: &[u8; 32]) -> String {
    crate::b64::url_safe(random)
}

/// Whether `v` is a valid `code_verifier`: 43–128 characters of `[A-Za-z0-9-._~]`.
pub fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || crate::text::has_byte(b"-._~", b))
}

/// `code_challenge` for `S256`: base64url(SHA-256(verifier)), no padding.
pub fn challenge(verifier: &str) -> String {
    crate::b64::url_safe(&crate::sha256::sha256(verifier.as_bytes()))
}

/// What goes into the authorization request.
pub struct AuthorizeRequest<'a> {
    /// `client_id`.
    pub client_id: &'a str,
    /// `redirect_uri`, when the app registered more than one or the server wants it.
    pub redirect_uri: Option<&'a str>,
    /// `scope`.
    pub scope: Option<&'a str>,
    /// `state`: the app's CSRF token, echoed back on the redirect.
    pub state: Option<&'a str>,
    /// `code_challenge` (S256).
    pub code_challenge: &'a str,
    /// Extra parameters; may not override the ones above.
    pub extra: &'a [(String, String)],
}

/// The query of the authorization request, form-encoded:
/// `response_type=code&client_id…&redirect_uri…&scope…&state…&code_challenge…&code_challenge_method=S256`.
pub fn authorize_query(r: &AuthorizeRequest<'_>) -> Result<String, Error> {
    if r.client_id.is_empty() {
        return Err(Error::invalid_option(
            "clientId",
            "must be a non-empty string",
        ));
    }
    if r.code_challenge.len() != 43 {
        return Err(Error::invalid_option(
            "codeChallenge",
            "must be an S256 challenge (43 characters)",
        ));
    }
    let mut pairs: Vec<(&str, &str)> = vec![("response_type", "code"), ("client_id", r.client_id)];
    for (name, value) in [
        ("redirect_uri", r.redirect_uri),
        ("scope", r.scope),
        ("state", r.state),
    ] {
        if let Some(v) = value {
            pairs.push((name, v));
        }
    }
    pairs.push(("code_challenge", r.code_challenge));
    pairs.push(("code_challenge_method", "S256"));
    let mut form = Form::default();
    for (name, value) in &pairs {
        form.push(name, value);
    }
    for (name, value) in r.extra {
        if pairs.iter().any(|(n, _)| n == name) {
            return Err(Error::invalid_option(
                "extraParams",
                "may not set a parameter the library sets",
            ));
        }
        form.push(name, value);
    }
    Ok(form.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        let random: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = verifier_from(&random);
        assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            challenge(&verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(is_valid_verifier(&verifier));
    }

    #[test]
    fn verifier_rules() {
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(is_valid_verifier(&"a".repeat(128)));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&("a".repeat(42) + "+")));
    }

    #[test]
    fn edgetag_authorize_query() {
        let q = authorize_query(&AuthorizeRequest {
            client_id: "3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55",
            redirect_uri: Some("https://app.example/cb?x=1"),
            scope: Some("full"),
            state: Some("s t"),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            extra: &[],
        })
        .unwrap();
        assert_eq!(
            q,
            "response_type=code&client_id=3f2b8c1e-9d4a-4e7b-8f6c-2a1d0e9b7c55\
             &redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&scope=full&state=s+t\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        );
        let clash = [(String::from("state"), String::from("x"))];
        let r = AuthorizeRequest {
            client_id: "c",
            redirect_uri: None,
            scope: None,
            state: Some("s"),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            extra: &clash,
        };
        assert!(authorize_query(&r).is_err());
    }
}
