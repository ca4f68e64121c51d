//! Where the client's keys come from: fixed keys, the environment, or any provider (for
//! temporary STS credentials that rotate).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::error::ClientError;

/// A SecretId/SecretKey pair, optionally with a temporary-credential token. `Debug` hides the
/// key and the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The SecretId (`q-ak` of the signature).
    pub secret_id: String,
    /// The SecretKey.
    pub secret_key: String,
    /// The STS token, sent as `x-cos-security-token`.
    pub token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Credentials {
    /// Permanent credentials.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credentials {
            secret_id: secret_id.into(),
            secret_key: secret_key.into(),
            token: None,
        }
    }

    /// Adds a temporary-credential token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
}

/// The future a [`CredentialProvider`] returns.
pub type CredentialsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Credentials, ClientError>> + Send + 'a>>;

/// Supplies credentials before each request. Implement it to fetch and cache rotating STS
/// credentials; the client calls it once per attempt, so it should be cheap when cached.
pub trait CredentialProvider: fmt::Debug + Send + Sync {
    /// The credentials to sign the next request with.
    fn credentials(&self) -> CredentialsFuture<'_>;
}

/// Always the same credentials.
#[derive(Debug, Clone)]
pub struct StaticCredentials(Credentials);

impl StaticCredentials {
    /// A provider of these credentials.
    pub fn new(credentials: Credentials) -> Self {
        StaticCredentials(credentials)
    }
}

impl CredentialProvider for StaticCredentials {
    fn credentials(&self) -> CredentialsFuture<'_> {
        let credentials = self.0.clone();
        Box::pin(async move { Ok(credentials) })
    }
}

/// Credentials from the environment, read at every request: `COS_SECRET_ID`,
/// `COS_SECRET_KEY` and optionally `COS_SECURITY_TOKEN` (the names the seed samples use).
#[derive(Debug, Clone, Default)]
pub struct EnvCredentials;

impl CredentialProvider for EnvCredentials {
    fn credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move {
            let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
            let (Some(id), Some(key)) = (var("COS_SECRET_ID"), var("COS_SECRET_KEY")) else {
                return Err(ClientError::Credentials(
                    "COS_SECRET_ID and COS_SECRET_KEY are not both set".into(),
                ));
            };
            let mut credentials = Credentials::new(id, key);
            credentials.token = var("COS_SECURITY_TOKEN");
            Ok(credentials)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests may panic: that is how they fail.
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::new("AKIDx", "very-secret").with_token("tok");
        let text = format!("{c:?}");
        assert!(text.contains("AKIDx"));
        assert!(!text.contains("very-secret") && !text.contains("tok\""));
    }
}
