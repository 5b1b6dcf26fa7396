//! Storage: connecting to SQLite or PostgreSQL, migrations, and the sea-orm entities. Use cases
//! open transactions here and call the entities; nothing above the service layer sees SQL.

pub mod backup;
pub mod entity;
pub mod lease;
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
    #[error(
        "there is no database at {}: run this where Accord's database is, or name it with --database or DATABASE_URL",
        .0.display()
    )]
    Missing(std::path::PathBuf),
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
/// costs a round trip (on SQLite, a hand-off to its worker thread) for nothing, and a
/// connection the server dropped is found by that ping and replaced.
///
/// The pool runs no maintenance task: no idle timeout, no maximum lifetime, no minimum of
/// connections. sqlx's task that reaps connections by age can read its count of idle
/// connections in the moment a release has not yet added to it, wrap below zero, and spin a
/// core at 100% inside one poll, never yielding, so the process cannot even shut down
/// (sqlx issue 3645; sqlx-core 0.9.0, which sea-orm 2 uses, still releases in that order). A
/// pool of at most a handful of connections loses nothing by keeping them.
pub async fn connect(url: &str) -> Result<DatabaseConnection, StoreError> {
    crate::tls::install_crypto_provider();
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .idle_timeout(None)
        .max_lifetime(None)
        .min_connections(0)
        .map_sqlx_sqlite_opts(|o| {
            let o = o.busy_timeout(SQLITE_BUSY_TIMEOUT);
            SQLITE_PRAGMAS.iter().fold(o, |o, (k, v)| o.pragma(*k, *v))
        });
    // Every connection is kept once opened (above): these are what a database must allow for
    // each instance (docs/operations.md).
    opts.max_connections(if url.starts_with("sqlite:") { 8 } else { 10 });
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

/// The migrations the database has not had (names, oldest first); an error if it does not
/// answer.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, sea_orm::DbErr> {
    db.ping().await?;
    Ok(Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect())
}

/// Connects and migrates: what `serve` and every database command do first.
pub async fn open(url: &str) -> Result<DatabaseConnection, StoreError> {
    let db = connect(url).await?;
    migrate(&db).await?;
    Ok(db)
}

/// Opens and migrates a database that must exist already: what a command that only reads, or
/// changes only what is there, opens. A SQLite file that is not there is [`StoreError::Missing`]
/// (never created: `mode=rwc` is read as `mode=rw`), so such a command run in the wrong
/// folder says so instead of leaving an empty `accord.db` behind. PostgreSQL never creates a
/// database.
pub async fn open_existing(url: &str) -> Result<DatabaseConnection, StoreError> {
    let db = connect_existing(url).await?;
    migrate(&db).await?;
    Ok(db)
}

/// Connects to a database that must exist already, as [`open_existing`] does, but applies no
/// migration: for looking at it as it is (`accord config --check`).
pub async fn connect_existing(url: &str) -> Result<DatabaseConnection, StoreError> {
    if let Some(file) = backup::sqlite_file(url)
        && !file.exists()
    {
        return Err(StoreError::Missing(
            std::path::absolute(&file).unwrap_or(file),
        ));
    }
    connect(&without_create(url)).await
}

/// A SQLite URL that does not create its file (`mode=rwc` → `mode=rw`); others unchanged.
fn without_create(url: &str) -> String {
    let Some((head, query)) = url.split_once('?').filter(|_| url.starts_with("sqlite:")) else {
        return url.to_owned();
    };
    let params: Vec<&str> = query
        .split('&')
        .map(|p| if p == "mode=rwc" { "mode=rw" } else { p })
        .collect();
    format!("{head}?{}", params.join("&"))
}

/// The database a URL names, as a person reads it: a SQLite file's full path, else the URL
/// with its password hidden.
pub fn describe(url: &str) -> String {
    match backup::sqlite_file(url) {
        Some(file) => std::path::absolute(&file)
            .unwrap_or(file)
            .display()
            .to_string(),
        None => redact(url),
    }
}

/// A database URL fit for logs and error messages: any password replaced by `***`, both in
/// a query parameter (`?password=`) and in the user information (`user:password@`).
///
/// The user information ends at the last `@` before the path, as URL parsers read it, so a
/// password holding `@` is hidden whole. Each step only takes text away, so where a URL is
/// ambiguous (a `?` in a password) both readings are hidden.
pub fn redact(url: &str) -> String {
    let url = redact_query(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url;
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url;
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url,
    }
}

/// `…?a=1&password=x` → `…?a=1&password=***`: every parameter whose name holds "password"
/// (`password`, `sslpassword`), in any case.
fn redact_query(text: &str) -> String {
    let Some((head, query)) = text.split_once('?') else {
        return text.to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                format!("{key}=***")
            }
            _ => param.to_owned(),
        })
        .collect();
    format!("{head}?{}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::{redact, without_create};

    #[test]
    fn a_database_that_must_exist_is_never_created() {
        assert_eq!(
            without_create("sqlite://accord.db?mode=rwc"),
            "sqlite://accord.db?mode=rw"
        );
        assert_eq!(
            without_create("sqlite:///srv/a.db?cache=shared&mode=rwc"),
            "sqlite:///srv/a.db?cache=shared&mode=rw"
        );
        assert_eq!(without_create("sqlite://a.db"), "sqlite://a.db");
        assert_eq!(
            without_create("postgres://db/accord?mode=rwc"),
            "postgres://db/accord?mode=rwc"
        );
    }

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
        assert_eq!(
            redact("postgres://u:p@ss@db/x"),
            "postgres://u:***@db/x",
            "the user information ends at the last '@'"
        );
        assert_eq!(
            redact("postgres://u:p@db/x?application_name=a@b"),
            "postgres://u:***@db/x?application_name=a@b",
            "an '@' after the path is not the user information's"
        );
        assert_eq!(
            redact("postgres://accord@db/accord?password=s3cret&sslmode=require"),
            "postgres://accord@db/accord?password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgres://db?sslmode=require&sslpassword=k3y&Password=s3cret"),
            "postgres://db?sslmode=require&sslpassword=***&Password=***"
        );
        assert_eq!(
            redact("postgres://u:p@ss@db/x?password=p@ss"),
            "postgres://u:***@db/x?password=***"
        );
        assert_eq!(
            redact("postgres://db?password=p@ss"),
            "postgres://db?password=***",
            "an '@' in a query password is not the end of user information"
        );
        assert_eq!(
            redact("postgres://u:p?ss@db/x"),
            "postgres://u:***@db/x",
            "a '?' in a password is not the start of a query"
        );
        assert_eq!(
            redact("sqlite://accord.db?mode=rwc&password=x"),
            "sqlite://accord.db?mode=rwc&password=***"
        );
    }
}
