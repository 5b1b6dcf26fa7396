//! The real application on a random loopback port, against a fresh database: a SQLite file in
//! a temporary folder, or a new database on the PostgreSQL that scripts/test.sh starts.
//!
//! A fresh migrated database is a copy of one migrated once per test process: on PostgreSQL
//! `CREATE DATABASE … TEMPLATE`, on SQLite a copy of the file. The app then finds every
//! migration applied, as on any later start.

use std::path::Path;
use std::sync::Arc;

use accord::auth::{Role, mint};
use accord::clock::FixedClock;
use accord::registry::Registry;
use accord::settings::Settings;
use jiff::civil::date;
use poem::listener::{Acceptor, Listener, TcpListener};
use sea_orm::{ConnectionTrait, Statement};
use tokio::sync::OnceCell;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub registry: Registry,
    pub clock: Arc<FixedClock>,
    pub db_url: String,
    pub backend: Backend,
    /// The app the server runs (its services, for jobs a test runs by hand).
    pub app: accord::app::App,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// The PostgreSQL server the test command started, or a clear failure.
pub fn pg_admin_url() -> String {
    std::env::var("ACCORD_TEST_PG_URL").unwrap_or_else(|_| {
        panic!("ACCORD_TEST_PG_URL is not set: run scripts/test.sh, which starts PostgreSQL")
    })
}

/// A new, empty database for one test (no migration applied).
pub async fn fresh_database(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::Sqlite => sqlite_url(&dir.join("accord.db")),
        Backend::Postgres => create_postgres("accord_test", None).await,
    }
}

/// A new database for one test with every migration applied, as `accord::store::open` leaves
/// it: a copy of a database migrated once per test process, so that a test pays for a copy,
/// not for every migration.
pub async fn migrated_database(backend: Backend, dir: &Path) -> String {
    match backend {
        Backend::Sqlite => {
            let file = dir.join("accord.db");
            std::fs::write(&file, sqlite_template().await).expect("write the migrated SQLite file");
            sqlite_url(&file)
        }
        Backend::Postgres => create_postgres("accord_test", Some(postgres_template().await)).await,
    }
}

fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}?mode=rwc", file.display())
}

/// Creates a database on the test PostgreSQL, named `prefix` and a new id, empty or as a copy
/// of `template`, and returns its URL.
async fn create_postgres(prefix: &str, template: Option<&str>) -> String {
    let admin = pg_admin_url();
    let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
    let conn = accord::store::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL");
    let create = match template {
        None => format!("CREATE DATABASE {name}"),
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
    };
    conn.execute_raw(Statement::from_string(conn.get_database_backend(), create))
        .await
        .expect("create a test database");
    conn.close().await.ok();
    let (base, _) = admin.rsplit_once('/').expect("a database URL");
    format!("{base}/{name}")
}

/// The PostgreSQL database this process copies for each test, migrated once. Its name is new
/// for each process, so test binaries running at once never share one, and one made by an
/// older build (other migrations) is never used.
async fn postgres_template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let url = create_postgres("accord_template", None).await;
            let db = accord::store::open(&url)
                .await
                .expect("migrate the template database");
            // PostgreSQL copies a database only while nobody is connected to it.
            db.close().await.expect("close the template database");
            url.rsplit_once('/').expect("a database URL").1.to_owned()
        })
        .await
}

/// The SQLite file this process copies for each test, migrated once: its bytes, kept in
/// memory so that nothing is left behind when the process ends.
async fn sqlite_template() -> &'static [u8] {
    static TEMPLATE: OnceCell<Vec<u8>> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("accord.db");
            let db = accord::store::open(&sqlite_url(&file))
                .await
                .expect("migrate the template file");
            // Closing the last connection folds the write-ahead log into the file, so the file
            // alone is the whole database.
            db.close().await.expect("close the template file");
            assert!(
                !dir.path().join("accord.db-wal").exists(),
                "the template's write-ahead log outlived its last connection"
            );
            std::fs::read(&file).unwrap()
        })
        .await
}

impl TestApp {
    pub async fn start(backend: Backend) -> TestApp {
        Self::start_with(backend, Settings::default()).await
    }

    pub async fn start_with(backend: Backend, settings: Settings) -> TestApp {
        Self::start_knowing_base(backend, |_| settings).await
    }

    /// As [`TestApp::start_with`], the settings made once the app's address (`http://…`) is
    /// known.
    pub async fn start_knowing_base(
        backend: Backend,
        settings: impl FnOnce(&str) -> Settings,
    ) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let db_url = migrated_database(backend, dir.path()).await;
        let db = accord::store::open(&db_url)
            .await
            .expect("open the test database");
        let clock = Arc::new(FixedClock::on(date(2026, 11, 21)));
        let registry = Registry::new(db, clock.clone());
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = acceptor.local_addr()[0].to_string();
        let base = format!("http://{}", addr.trim_start_matches("socket://"));
        let app = accord::app::App::new(registry.clone(), settings(&base)).expect("the app starts");
        let endpoint = accord::server::endpoint(&app).expect("the endpoint builds");
        let served = app.clone();
        let limits = app.settings.connections.clone();
        let forever = std::future::pending();
        let grace = std::time::Duration::ZERO;
        tokio::spawn(async move {
            accord::connections::serve(acceptor, endpoint, &limits, forever, grace).await
        });
        TestApp {
            base,
            registry,
            clock,
            db_url,
            backend,
            app: served,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// Mints a token for `role` (bound to `party` where the role needs one).
    pub async fn token(&self, role: Role, party: Option<&str>) -> String {
        let now = accord::clock::Clock::now(&*self.clock);
        let name = format!("test-{role}");
        mint(self.registry.db(), now, role, &name, party, "test")
            .await
            .unwrap()
            .0
    }

    /// Adds `yaml` as the agreements folder does at start: the operator's own files, whose
    /// `signatures:` count (an upload's are only claims). Returns the new version as JSON.
    pub async fn import_yaml(&self, yaml: &str) -> serde_json::Value {
        use accord::registry::versions::{Added, Origin};
        match self
            .registry
            .add_version(yaml.as_bytes(), "import", Origin::Import)
            .await
        {
            Ok(Added::Created(v)) => serde_json::to_value(v).unwrap(),
            Ok(Added::Existing(_)) => panic!("already imported"),
            Err(e) => panic!("import failed: {e}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(
        &self,
        token: &str,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_yaml(&self, token: &str, path: &str, yaml: &str) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/yaml")
            .body(yaml.to_owned())
            .send()
            .await
            .unwrap()
    }
}

/// Runs each named `async fn(TestApp)` as two tests: on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::support::app::TestApp::start($crate::support::app::Backend::Sqlite).await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($crate::support::app::TestApp::start($crate::support::app::Backend::Postgres).await).await
                }
            )*
        }
    };
}
