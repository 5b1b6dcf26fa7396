//! PostgreSQL over TLS: a private PostgreSQL cluster this test starts on loopback with
//! `ssl=on` and a certificate it makes, taking plain and TLS connections alike. Accord connects
//! with `sslmode=require` (encrypted) and `sslmode=verify-full` with the council's CA
//! (encrypted and verified); a certificate from another CA fails clearly and never falls back
//! to plain text.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sea_orm::{ConnectionTrait, Statement};
use support::accord;
use support::tls::Pki;

/// A PostgreSQL cluster of this test's own, stopped when dropped.
struct TlsPostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

fn run(as_postgres: bool, program: &Path, args: &[&str]) -> Output {
    let mut command = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command.args(args).output().unwrap()
}

fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

impl TlsPostgres {
    fn start(pki: &Pki) -> TlsPostgres {
        use std::os::unix::fs::PermissionsExt;
        let bin = PathBuf::from(std::env::var("ACCORD_TEST_PG_BIN").expect(
            "ACCORD_TEST_PG_BIN is not set: run scripts/test.sh, which installs PostgreSQL",
        ));
        // PostgreSQL refuses to run as root: as root, the cluster belongs to `postgres`.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let chown = |path: &Path| {
            if as_postgres {
                ok(
                    &Command::new("chown")
                        .arg("postgres")
                        .arg(path)
                        .output()
                        .unwrap(),
                    "chown",
                );
            }
        };
        chown(&data);
        let data_s = data.to_str().unwrap();
        let o = run(
            as_postgres,
            &bin.join("initdb"),
            &["-D", data_s, "-U", "accord", "--auth=trust"],
        );
        ok(&o, "initdb");
        for (from, to) in [(&pki.cert, "server.crt"), (&pki.key, "server.key")] {
            let target = data.join(to);
            std::fs::copy(from, &target).unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
            chown(&target);
        }
        let port = support::free_port();
        let conf = format!(
            "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
             listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{data_s}'\n"
        );
        let mut text = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
        text.push_str(&conf);
        std::fs::write(data.join("postgresql.conf"), text).unwrap();
        // Plain and TLS connections are both accepted, so a client that fell back to plain
        // text would get in: the tests prove Accord does not.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        let log = format!("{data_s}/server.log");
        let o = run(
            as_postgres,
            &bin.join("pg_ctl"),
            &["-D", data_s, "-l", &log, "-w", "start"],
        );
        ok(&o, "pg_ctl start");
        TlsPostgres {
            bin,
            data,
            port,
            as_postgres,
            _dir: dir,
        }
    }

    fn url(&self, query: &str) -> String {
        format!("postgres://accord@127.0.0.1:{}/postgres?{query}", self.port)
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap().to_owned();
        run(
            self.as_postgres,
            &self.bin.join("pg_ctl"),
            &["-D", &data, "-m", "immediate", "stop"],
        );
    }
}

/// Whether this connection of Accord's pool is encrypted, as the server sees it.
async fn encrypted(url: &str) -> bool {
    let db = accord::store::open(url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ))
        .await
        .unwrap()
        .unwrap();
    let ssl: bool = row.try_get("", "ssl").unwrap();
    db.close().await.ok();
    ssl
}

#[tokio::test]
async fn postgresql_over_tls_verified_and_never_plain() {
    let council = Pki::new("council");
    let server = TlsPostgres::start(&council);
    let ca = format!("sslrootcert={}", council.ca.display());

    // verify-full with the council's CA: encrypted, the certificate and host name checked.
    let verified = server.url(&format!("sslmode=verify-full&{ca}"));
    let o = accord(&["migrate", "--database", &verified]);
    ok(&o, "accord migrate over verify-full");
    assert!(encrypted(&verified).await, "verify-full is not encrypted");
    let o = accord(&["audit", "verify", "--database", &verified]);
    ok(&o, "accord audit verify over verify-full");

    // require: encrypted (the certificate is not checked, as libpq does).
    assert!(encrypted(&server.url("sslmode=require")).await);

    // A certificate from another CA fails clearly, and there is no fallback to plain text,
    // though the server would take one.
    let impostor = Pki::new("impostor");
    let wrong = server.url(&format!(
        "sslmode=verify-full&sslrootcert={}",
        impostor.ca.display()
    ));
    let o = accord(&["migrate", "--database", &wrong]);
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let said = String::from_utf8_lossy(&o.stderr).to_lowercase();
    assert!(
        said.contains("certificate") || said.contains("tls"),
        "{said}"
    );
    assert!(accord::store::open(&wrong).await.is_err());
    // With verify-ca too.
    let wrong_ca = wrong.replace("verify-full", "verify-ca");
    assert!(accord::store::open(&wrong_ca).await.is_err());

    // The same server in plain text, asked for: it works, and is not encrypted, so the checks
    // above really did tell plain from TLS.
    assert!(!encrypted(&server.url("sslmode=disable")).await);
}
