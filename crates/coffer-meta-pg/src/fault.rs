//! Errors inside this backend on their way to becoming [`StoreError`]s.

use coffer_store::StoreError;
use tokio_postgres::error::SqlState;

/// An error inside a transaction: an outcome for the caller, or a PostgreSQL error that
/// the transaction loop may retry (serialization failures, deadlocks) or report.
#[derive(Debug)]
pub(crate) enum Fault {
    /// An outcome to report as is (e.g. `NoSuchUpload`, `PreconditionFailed`).
    Store(StoreError),
    /// A statement or connection failed.
    Pg(tokio_postgres::Error),
    /// The transaction saw a state another one is changing: run it again.
    Retry,
}

/// Results inside this backend.
pub(crate) type Res<T> = Result<T, Fault>;

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Fault {
        Fault::Store(e)
    }
}

impl From<tokio_postgres::Error> for Fault {
    fn from(e: tokio_postgres::Error) -> Fault {
        Fault::Pg(e)
    }
}

impl Fault {
    /// Whether running the transaction again may succeed: PostgreSQL aborted it to keep
    /// transactions serializable or to break a deadlock, or it asked for a retry itself.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Fault::Retry => true,
            Fault::Pg(e) => matches!(
                e.code(),
                Some(code) if *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED
            ),
            Fault::Store(_) => false,
        }
    }

    /// The error the caller sees. PostgreSQL's own errors become `Internal` with the
    /// SQLSTATE and the server's message (never the connection URL).
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            Fault::Store(e) => e,
            Fault::Retry => StoreError::Internal(
                "postgres: the transaction kept conflicting with others; giving up".into(),
            ),
            Fault::Pg(e) => pg_error(&e),
        }
    }
}

/// A PostgreSQL error as a [`StoreError::Internal`].
pub(crate) fn pg_error(e: &tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => {
            StoreError::Internal(format!("postgres: {} ({})", db.message(), db.code().code()))
        }
        None => StoreError::Internal(format!("postgres: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_pass_through_and_retries_are_recognised() {
        assert!(matches!(
            Fault::Store(StoreError::NoSuchKey).into_store(),
            StoreError::NoSuchKey
        ));
        assert!(Fault::Retry.is_retryable());
        assert!(!Fault::Store(StoreError::NoSuchKey).is_retryable());
        assert!(matches!(Fault::Retry.into_store(), StoreError::Internal(_)));
    }
}
