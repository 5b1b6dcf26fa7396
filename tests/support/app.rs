//! The real application on a random loopback port, against a fresh database: a SQLite file in
//! a temporary folder, or a new database on the PostgreSQL that scripts/test.sh starts.

use std::sync::Arc;

use accord::auth::{Role, mint};
use accord::clock::FixedClock;
use accord::registry::Registry;
use accord::settings::Settings;
use jiff::civil::date;
use poem::listener::{Acceptor, Listener, TcpListener};
use sea_orm::{ConnectionTrait, Statement};

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

/// A new, empty database for one test.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}/accord.db?mode=rwc", dir.display()),
        Backend::Postgres => {
            let admin = pg_admin_url();
            let name = format!("accord_test_{}", uuid::Uuid::now_v7().simple());
            let conn = accord::store::connect(&admin)
                .await
                .expect("connect to the test PostgreSQL");
            let create = format!("CREATE DATABASE {name}");
            conn.execute_raw(Statement::from_string(conn.get_database_backend(), create))
                .await
                .expect("create a test database");
            conn.close().await.ok();
            let (base, _) = admin.rsplit_once('/').expect("a database URL");
            format!("{base}/{name}")
        }
    }
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
        let db_url = fresh_database(backend, dir.path()).await;
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
