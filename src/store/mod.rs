//! Storage: connecting to SQLite or PostgreSQL, migrations, and the sea-orm entities. Use cases
//! open transactions here and call the entities; nothing above the service layer sees SQL.

pub mod entity;
pub mod time;

use std::time::Duration;

use accord_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// The embedded default: a SQLite file next to where Accord runs, created if missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://accord.db?mode=rwc";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database at {url}: {source}")]
    Connect { url: String, source: DbErr },
    #[error("cannot apply database migrations: {0}")]
    Migrate(DbErr),
}

/// How every SQLite connection is set up, the pool's and the gate journal's own: WAL, a
/// commit on disk when it returns (`synchronous=FULL`), foreign keys enforced.
pub const SQLITE_PRAGMAS: [(&str, &str); 3] = [
    ("journal_mode", "WAL"),
    ("synchronous", "FULL"),
    ("foreign_keys", "ON"),
];

/// How long a SQLite writer waits for the write lock before failing.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a pool. SQLite runs in WAL mode with `synchronous=FULL` (a commit survives power
/// loss), foreign keys on, and a busy timeout so concurrent writers wait instead of failing.
/// A pooled connection is pinged before use only after 30 s idle: a ping on every acquire
/// costs a round trip (on SQLite, a hand-off to its worker thread) for nothing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, StoreError> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .map_sqlx_sqlite_opts(|o| {
            let o = o.busy_timeout(SQLITE_BUSY_TIMEOUT);
            SQLITE_PRAGMAS.iter().fold(o, |o, (k, v)| o.pragma(*k, *v))
        });
    if url.starts_with("sqlite:") {
        opts.max_connections(8);
    }
    Database::connect(opts)
        .await
        .map_err(|source| StoreError::Connect {
            url: redact(url),
            source,
        })
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), StoreError> {
    Migrator::up(db, None).await.map_err(StoreError::Migrate)
}

/// Connects and migrates: what `serve` and every database command do first.
pub async fn open(url: &str) -> Result<DatabaseConnection, StoreError> {
    let db = connect(url).await?;
    migrate(&db).await?;
    Ok(db)
}

/// A database URL fit for logs and error messages: any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://accord:s3cret@db:5432/accord"),
            "postgres://accord:***@db:5432/accord"
        );
        assert_eq!(
            redact("sqlite://accord.db?mode=rwc"),
            "sqlite://accord.db?mode=rwc"
        );
        assert_eq!(
            redact("postgres://accord@db/accord"),
            "postgres://accord@db/accord"
        );
    }
}
