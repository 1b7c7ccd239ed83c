//! Bearer tokens from a registry's token server (the realm of its challenge), as the Docker
//! token spec and its OAuth2 variant describe: anonymous `GET realm?service=&scope=`,
//! credentialed `GET` with Basic, and `POST` forms with `grant_type=password` or
//! `grant_type=refresh_token` (when the stored credentials hold an identity token), falling
//! back to `GET` when a server does not offer the POST (404/405). Tokens are cached per
//! registry and scope until shortly before they expire.

use super::auth::Challenge;
use super::client::Credentials;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The OAuth2 client id Berth presents (token servers log it; some require one).
const CLIENT_ID: &str = "berth";

pub(crate) struct Token {
    pub token: String,
    expires: Instant,
    refresh: Option<String>,
}

#[derive(Default)]
pub(crate) struct TokenCache {
    /// (registry, scope) -> token
    tokens: HashMap<(String, String), Token>,
    /// The last refresh token each registry's token server gave.
    refresh: HashMap<String, String>,
}

impl TokenCache {
    pub fn get(&self, key: &(String, String)) -> Option<String> {
        self.tokens
            .get(key)
            .filter(|t| t.expires > Instant::now())
            .map(|t| t.token.clone())
    }

    pub fn insert(&mut self, key: (String, String), t: Token) {
        if let Some(r) = &t.refresh {
            self.refresh.insert(key.0.clone(), r.clone());
        }
        self.tokens.insert(key, t);
    }

    /// Drop the tokens of `registry` for `scope` (all of them when no scope is known).
    pub fn forget(&mut self, registry: &str, scope: Option<&str>) {
        self.tokens
            .retain(|(reg, s), _| reg != registry || scope.is_some_and(|sc| sc != s));
    }

    pub fn refresh_token(&self, registry: &str) -> Option<String> {
        self.refresh.get(registry).cloned()
    }
}

enum Fetch {
    Got(Token),
    /// The server does not take POST here (404/405).
    NotOffered,
}

/// A token for `scope` (space separated scopes, may be empty) from the challenge's realm.
pub(crate) fn fetch(
    agent: &super::agents::Agents,
    challenge: &Challenge,
    scope: &str,
    creds: Option<&Credentials>,
    offline: bool,
) -> Result<Token> {
    let realm = challenge
        .param("realm")
        .ok_or_else(|| Error::Registry("Bearer challenge without a realm".into()))?;
    let service = challenge.param("service");
    let Some(c) = creds else {
        return get(agent, realm, service, scope, None, offline);
    };
    if let Some(refresh) = &c.identity_token {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        match post(agent, realm, service, scope, &form, c)? {
            Fetch::Got(t) => return Ok(t),
            Fetch::NotOffered if !c.password.is_empty() => {}
            Fetch::NotOffered => {
                return Err(Error::Registry(format!(
                    "token server {realm} does not take refresh tokens (POST); log in again"
                )))
            }
        }
    } else {
        let mut form = vec![
            ("grant_type", "password"),
            ("username", c.username.as_str()),
            ("password", c.password.as_str()),
        ];
        if offline {
            form.push(("access_type", "offline"));
        }
        if let Fetch::Got(t) = post(agent, realm, service, scope, &form, c)? {
            return Ok(t);
        }
    }
    get(agent, realm, service, scope, Some(c), offline)
}

fn post(
    agent: &super::agents::Agents,
    realm: &str,
    service: Option<&str>,
    scope: &str,
    grant: &[(&str, &str)],
    c: &Credentials,
) -> Result<Fetch> {
    let mut form: Vec<(&str, &str)> = grant.to_vec();
    form.push(("client_id", CLIENT_ID));
    if let Some(s) = service {
        form.push(("service", s));
    }
    if !scope.is_empty() {
        form.push(("scope", scope));
    }
    match agent.post(realm).send_form(&form) {
        Ok(resp) => parse(realm, resp).map(Fetch::Got),
        Err(ureq::Error::Status(404 | 405, _)) => Ok(Fetch::NotOffered),
        Err(ureq::Error::Status(code @ (400 | 401 | 403), resp)) => {
            let body = resp.into_string().unwrap_or_default();
            Err(Error::Registry(if c.identity_token.is_some() {
                format!("token server {realm}: the stored refresh token was refused (HTTP {code}); log in again")
            } else {
                format!(
                    "token server {realm}: wrong username or password (HTTP {code}{})",
                    detail(&body)
                )
            }))
        }
        Err(e) => Err(refused(realm, e)),
    }
}

fn get(
    agent: &super::agents::Agents,
    realm: &str,
    service: Option<&str>,
    scope: &str,
    c: Option<&Credentials>,
    offline: bool,
) -> Result<Token> {
    let mut req = agent.get(realm);
    if let Some(s) = service {
        req = req.query("service", s);
    }
    for s in scope.split_whitespace() {
        req = req.query("scope", s);
    }
    if let Some(c) = c {
        req = req.set("Authorization", &c.basic());
        if offline {
            req = req
                .query("offline_token", "true")
                .query("client_id", CLIENT_ID);
        }
    }
    match req.call() {
        Ok(resp) => parse(realm, resp),
        Err(ureq::Error::Status(code @ (401 | 403), resp)) => {
            let body = resp.into_string().unwrap_or_default();
            Err(Error::Registry(match c {
                Some(_) => format!(
                    "token server {realm}: wrong username or password (HTTP {code}{})",
                    detail(&body)
                ),
                None => format!(
                    "token server {realm}: unauthorized (HTTP {code}): credentials needed (berth login){}",
                    detail(&body)
                ),
            }))
        }
        Err(e) => Err(refused(realm, e)),
    }
}

fn detail(body: &str) -> String {
    let b = body.trim();
    if b.is_empty() {
        String::new()
    } else {
        format!(": {}", b.chars().take(200).collect::<String>())
    }
}

fn refused(realm: &str, e: ureq::Error) -> Error {
    match e {
        ureq::Error::Status(code, resp) => Error::Status {
            url: realm.to_string(),
            status: code,
            message: resp
                .into_string()
                .unwrap_or_default()
                .trim()
                .chars()
                .take(200)
                .collect(),
        },
        e => Error::Registry(format!("token server {realm}: {e}")),
    }
}

fn parse(realm: &str, resp: ureq::Response) -> Result<Token> {
    let body = resp
        .into_string()
        .map_err(|e| Error::Registry(format!("token from {realm}: {e}")))?;
    let v: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| Error::Registry(format!("token from {realm}: not JSON: {e}")))?;
    let token = v["token"]
        .as_str()
        .or(v["access_token"].as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::Registry(format!("token server {realm} returned no token")))?;
    // The spec's default lifetime is 60 s; renew a little early.
    let life = v["expires_in"].as_u64().unwrap_or(60).max(60);
    Ok(Token {
        token: token.to_string(),
        expires: Instant::now() + Duration::from_secs(life) - Duration::from_secs(10),
        refresh: v["refresh_token"].as_str().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(t: &str, life: u64, refresh: Option<&str>) -> Token {
        Token {
            token: t.into(),
            expires: Instant::now() + Duration::from_secs(life),
            refresh: refresh.map(str::to_string),
        }
    }

    #[test]
    fn tokens_are_kept_per_registry_and_scope_until_they_expire() {
        let mut c = TokenCache::default();
        let pull = ("r:5000".to_string(), "repository:a:pull".to_string());
        let push = ("r:5000".to_string(), "repository:a:pull,push".to_string());
        let other = ("s:5000".to_string(), "repository:a:pull".to_string());
        c.insert(pull.clone(), token("p", 60, None));
        c.insert(push.clone(), token("pp", 60, Some("rt")));
        c.insert(other.clone(), token("o", 0, None));
        assert_eq!(c.get(&pull).as_deref(), Some("p"));
        assert_eq!(c.get(&push).as_deref(), Some("pp"));
        assert_eq!(c.get(&other), None, "expired");
        assert_eq!(c.refresh_token("r:5000").as_deref(), Some("rt"));
        c.forget("r:5000", Some("repository:a:pull"));
        assert_eq!(c.get(&pull), None);
        assert_eq!(c.get(&push).as_deref(), Some("pp"), "other scopes stay");
        c.forget("r:5000", None);
        assert_eq!(c.get(&push), None);
    }
}
