//! Certificates a test makes for itself (rcgen): a certificate authority, and a server
//! certificate for `localhost` and `127.0.0.1` signed by it, written as PEM files.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A CA and a server certificate it signed, in a temporary folder.
pub struct Pki {
    pub dir: tempfile::TempDir,
    /// The CA's certificate: what a client trusts.
    pub ca: PathBuf,
    /// The server's certificate and private key.
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Pki {
    /// A server certificate for loopback that signs itself, as `openssl req -x509` makes one:
    /// with `ca` (CA:TRUE, OpenSSL's default) or without (an end entity). `ca` (the file a
    /// client is told to trust) is that same certificate.
    pub fn self_signed(ca: bool) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        if ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        let cert = params.self_signed(&key).unwrap();
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let cert = write("server.pem", cert.pem());
        Pki {
            ca: cert.clone(),
            cert,
            key: write("server.key", key.serialize_pem()),
            dir,
        }
    }

    /// A new CA named `name`, and a server certificate for loopback signed by it.
    pub fn new(name: &str) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = params.signed_by(&key, &issuer).unwrap();
        let write = |name: &str, text: String| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        Pki {
            ca: write("ca.pem", ca_cert.pem()),
            cert: write("server.pem", cert.pem()),
            key: write("server.key", key.serialize_pem()),
            dir,
        }
    }
}
