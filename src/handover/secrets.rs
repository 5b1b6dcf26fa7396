//! Text that looks like a secret. Handover records which credentials exist, who rotates each and
//! when; never a credential itself. A submission holding one is refused with the line and what
//! it looked like, so the contractor can take it out. Pure, and linear in the text's length.
//!
//! Four tests, in order:
//!
//! 1. **Private keys**: a PEM `-----BEGIN … PRIVATE KEY-----` block, an OpenSSH key, a PuTTY
//!    key file, or a PGP private key block.
//! 2. **Labelled secrets**: a label such as `password`, `passphrase`, `pin`, `secret`, `token`
//!    or `api key` right before `:` or `=`, then a value that is one token of at least
//!    [`MIN_LABELLED_VALUE`] characters mixing two kinds of letters, digits and symbols
//!    (`Admin console password: Tr0ub4dor&3-Plugh!`), or after `pin` four to twelve digits. A
//!    sentence after the label ("held in the council's vault"), one plain word, a date, or an
//!    identifier naming the credential (`metis-gate-client`) passes.
//! 3. **Known token shapes**: GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`),
//!    GitLab (`glpat-`), Slack (`xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`), Stripe
//!    (`sk_live_`, `rk_live_`), AWS access key ids (`AKIA`/`ASIA` and 16 capitals or digits),
//!    Google API keys (`AIza` and 35 more), JSON Web Tokens (`eyJ…​.eyJ…​.…`), Azure storage
//!    connection strings (`AccountKey=`), and a password written into a URL
//!    (`scheme://user:password@host`), and AWS secret access keys (40 characters of base64,
//!    slashes included, as the documented example `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`).
//! 4. **High entropy**: a run of at least [`MIN_RANDOM_RUN`] letters, digits and `+/=_-`
//!    holding capitals, small letters and digits, whose characters carry at least
//!    [`MIN_BITS_PER_CHAR`] bits each (Shannon), and not mostly words (half of it in runs of
//!    four or more small letters). Words, identifiers, dates, UUIDs and hex digests (SHA-256 in
//!    a certificate) pass.

/// The shortest run of token characters the entropy test looks at.
pub const MIN_RANDOM_RUN: usize = 20;
/// Bits of Shannon entropy per character from which a run counts as random.
pub const MIN_BITS_PER_CHAR: f64 = 4.0;
/// The shortest value after a secret's label that counts as the secret itself.
pub const MIN_LABELLED_VALUE: usize = 8;

/// Labels that name a secret, as the last words before `:` or `=` (lower case; `_`, `-` and
/// spaces alike). After `pin` or `passcode`, four to twelve digits count too.
const LABELS: [&str; 14] = [
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "passcode",
    "pin",
    "secret",
    "secret key",
    "secret access key",
    "client secret",
    "api key",
    "apikey",
    "token",
    "access token",
];

/// A secret found: its line (from 1) and what it looked like. Never the text itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub line: usize,
    pub what: &'static str,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} looks like {}. Handover records which credentials exist, who rotates each \
             and when; never the secret itself. Take it out, rotate it if it was ever shared, \
             and submit again",
            self.line, self.what
        )
    }
}

const KEY_MARKERS: [(&str, &str); 5] = [
    ("PRIVATE KEY-----", "a private key"),
    ("BEGIN OPENSSH PRIVATE KEY", "a private key"),
    ("PuTTY-User-Key-File", "a PuTTY private key"),
    ("BEGIN PGP PRIVATE KEY BLOCK", "a PGP private key"),
    ("AccountKey=", "an Azure storage account key"),
];

/// `(prefix, shortest body after it, what)`.
const PREFIXES: [(&str, usize, &str); 14] = [
    ("github_pat_", 20, "a GitHub token"),
    ("ghp_", 20, "a GitHub token"),
    ("gho_", 20, "a GitHub token"),
    ("ghu_", 20, "a GitHub token"),
    ("ghs_", 20, "a GitHub token"),
    ("ghr_", 20, "a GitHub token"),
    ("glpat-", 16, "a GitLab token"),
    ("xoxb-", 10, "a Slack token"),
    ("xoxp-", 10, "a Slack token"),
    ("xoxa-", 10, "a Slack token"),
    ("xoxr-", 10, "a Slack token"),
    ("xoxs-", 10, "a Slack token"),
    ("sk_live_", 16, "a Stripe secret key"),
    ("rk_live_", 16, "a Stripe secret key"),
];

/// The first secret-looking thing in `text`, if any.
pub fn find(text: &str) -> Option<Found> {
    for (n, line) in text.lines().enumerate() {
        let at = |what| Some(Found { line: n + 1, what });
        if let Some((_, what)) = KEY_MARKERS.iter().find(|(m, _)| line.contains(m)) {
            return at(what);
        }
        if password_in_url(line) {
            return at("a password written into a URL");
        }
        if labelled_secret(line) {
            return at("a password or secret written after its label");
        }
        for run in runs(line) {
            if let Some(what) = token_shape(run) {
                return at(what);
            }
            if looks_random(run) {
                return at("a random key or token (a long run of mixed letters and digits)");
            }
        }
    }
    None
}

/// The runs of token characters in a line.
fn runs(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| {
        !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '_' | '-' | '.'))
    })
    .filter(|r| !r.is_empty())
}

fn token_shape(run: &str) -> Option<&'static str> {
    for (prefix, min, what) in PREFIXES {
        if let Some(i) = run.find(prefix) {
            let body = &run[i + prefix.len()..];
            if body.len() >= min {
                return Some(what);
            }
        }
    }
    let upper_digits = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    for (i, _) in run.match_indices("AKIA").chain(run.match_indices("ASIA")) {
        if run.len() >= i + 20 && upper_digits(&run[i + 4..i + 20]) {
            return Some("an AWS access key");
        }
    }
    if is_aws_secret_key(run) {
        return Some("an AWS secret access key");
    }
    if let Some(i) = run.find("AIza")
        && run.len() >= i + 39
    {
        return Some("a Google API key");
    }
    if let Some(i) = run.find("eyJ") {
        let parts: Vec<&str> = run[i..].split('.').collect();
        if parts.len() >= 3
            && parts[1].starts_with("eyJ")
            && parts[..3].iter().all(|p| p.len() >= 4)
        {
            return Some("a JSON Web Token");
        }
    }
    None
}

/// A label naming a secret right before `:` or `=`, then the secret itself: one token that
/// mixes kinds of characters, not words or a date.
fn labelled_secret(line: &str) -> bool {
    line.match_indices([':', '=']).any(|(i, _)| {
        let label: String = line[..i]
            .trim_end()
            .chars()
            .rev()
            .take(24)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(|c| match c {
                '_' | '-' => ' ',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        let named = LABELS.iter().find(|l| {
            label
                .strip_suffix(*l)
                .is_some_and(|before| before.is_empty() || before.ends_with(' '))
        });
        let value = line[i + 1..].trim();
        match named {
            Some(&("pin" | "passcode")) => secret_value(value) || pin(value),
            Some(_) => secret_value(value),
            None => false,
        }
    })
}

/// Four to twelve digits, as a PIN or passcode is.
fn pin(value: &str) -> bool {
    (4..=12).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

/// One token of at least [`MIN_LABELLED_VALUE`] characters with two kinds among small letters,
/// capitals, digits and symbols, that is not a date, a time or an identifier
/// (`metis-gate-client` names a credential).
fn secret_value(value: &str) -> bool {
    let value = value.trim_matches(['"', '\'', '`']);
    if value.chars().count() < MIN_LABELLED_VALUE || value.chars().any(char::is_whitespace) {
        return false;
    }
    if value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.' | ':' | 'T' | 'Z'))
    {
        return false;
    }
    // An identifier names a credential: small letters and digits joined by `-`, `_` or `.`.
    let identifier = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        && value.contains(['-', '_', '.']);
    if identifier {
        return false;
    }
    let kinds = [
        value.chars().any(|c| c.is_lowercase()),
        value.chars().any(|c| c.is_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_alphanumeric()),
    ];
    kinds.iter().filter(|&&k| k).count() >= 2
}

/// `scheme://user:password@host`: a colon then an `@` in the authority.
fn password_in_url(line: &str) -> bool {
    line.match_indices("://").any(|(i, _)| {
        let rest = &line[i + 3..];
        let authority = rest
            .split(['/', ' ', '\t', '"', '\'', '<', '>'])
            .next()
            .unwrap_or("");
        match authority.rfind('@') {
            Some(at) => authority[..at]
                .split_once(':')
                .is_some_and(|(user, pass)| !user.is_empty() && !pass.is_empty()),
            None => false,
        }
    })
}

/// 40 characters of base64 (slashes included), mixing capitals, small letters and digits,
/// random rather than words: the shape of an AWS secret access key, which its slashes cut into
/// pieces too short for the entropy test.
fn is_aws_secret_key(run: &str) -> bool {
    run.split(['.', '_', '-', '=']).any(|part| {
        part.len() == 40
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
            && part.bytes().any(|b| b.is_ascii_uppercase())
            && part.bytes().any(|b| b.is_ascii_lowercase())
            && part.bytes().any(|b| b.is_ascii_digit())
            && !part.starts_with('/')
            && !wordy(part)
            && bits_per_char(part) >= MIN_BITS_PER_CHAR
    })
}

fn looks_random(run: &str) -> bool {
    // Dots and slashes join words in paths and host names; a random run is judged without them.
    run.split(['.', '/']).any(|part| {
        part.len() >= MIN_RANDOM_RUN
            && part.bytes().any(|b| b.is_ascii_uppercase())
            && part.bytes().any(|b| b.is_ascii_lowercase())
            && part.bytes().any(|b| b.is_ascii_digit())
            && bits_per_char(part) >= MIN_BITS_PER_CHAR
            && !wordy(part)
    })
}

/// Mostly words: at least half of it in runs of four or more small letters, as in
/// `ISO27001CertifiedEnvironment`. A random run of 62 symbols seldom has even one such run.
fn wordy(part: &str) -> bool {
    let (mut in_words, mut run) = (0, 0);
    for b in part.bytes().chain(std::iter::once(b' ')) {
        if b.is_ascii_lowercase() {
            run += 1;
        } else {
            if run >= 4 {
                in_words += run;
            }
            run = 0;
        }
    }
    in_words * 2 >= part.len()
}

/// Shannon entropy of the bytes of `s`, in bits per byte.
fn bits_per_char(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(text: &str) -> Option<&'static str> {
        find(text).map(|f| f.what)
    }

    #[test]
    fn private_keys_and_known_tokens_are_found() {
        let cases = [
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "a private key"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key"),
            ("PuTTY-User-Key-File-3: ssh-rsa", "a PuTTY private key"),
            (
                "deploy token ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
                "a GitHub token",
            ),
            ("glpat-xxxxxxxxxxxxxxxxxxxx", "a GitLab token"),
            ("SLACK=xoxb-123456789012-abcdef", "a Slack token"),
            ("key: AKIAIOSFODNN7EXAMPLE", "an AWS access key"),
            (
                "AIzaSyA1234567890abcdefghijklmnopqrstuv",
                "a Google API key",
            ),
            (
                "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
                "a JSON Web Token",
            ),
            (
                "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc",
                "an Azure storage account key",
            ),
            (
                "sftp://metis:Tr0ub4dor@sftp.newham.example/in",
                "a password written into a URL",
            ),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "a Stripe secret key"),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "a password or secret written after its label",
            ),
            (
                "The key is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "an AWS secret access key",
            ),
            (
                "Admin console password: Tr0ub4dor&3-Plugh!",
                "a password or secret written after its label",
            ),
            (
                "DB_PASSWORD=hunter2hunter2!",
                "a password or secret written after its label",
            ),
            (
                "PIN: 48213377",
                "a password or secret written after its label",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(what(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn random_runs_are_found_on_their_line() {
        let text = "Accounts:\n- SFTP service account, rotated by Newham IT\n- API key q8Zr2LmX7vNc4TpW9sKd3YbH\n";
        let found = find(text).expect("found");
        assert_eq!(found.line, 3);
        assert!(found.what.starts_with("a random key"));
        assert!(found.to_string().contains("line 3"));
        assert!(
            !found.to_string().contains("q8Zr2"),
            "never echoes the secret"
        );
    }

    #[test]
    fn ordinary_handover_text_passes() {
        let benign = [
            "The attendance extract runs at 02:00 from the MIS via the SFTP drop; see runbook section 4.",
            "Certificate SHA-256: 9f86d081884c7d659a2feaea0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0",
            "Request id 3f2504e0-4f89-11d3-9a0c-0305e82c3301, decided 2027-03-01T09:30:00Z.",
            "Repository https://git.newham.example/analytics/hmo-matching-pipeline transferred.",
            "AttendanceExtractV2Pipeline and ISO27001CertifiedEnvironment are names, not keys.",
            "Rotated by Newham IT on 2027-03-29: sftp account metis-extract, api client metis-gate.",
            "https://user@git.example/repo has a user but no password.",
            "Contact: information.governance@newham.example, 020 8430 2000.",
            "Admin console password: held in the council's vault, rotated by Newham IT.",
            "Password: rotated",
            "Password rotated: 2027-03-29",
            "Token: see the runbook",
            "API client token: metis-gate-client-2",
            "secret: sftp_account.newham",
            "Spinning: 2027-03-29T09:30:00Z",
            "Path: /var/lib/accord/backups/nightly/extracts/hmo-matching/2027",
        ];
        for text in benign {
            assert_eq!(find(text), None, "{text}");
        }
    }

    #[test]
    fn work_is_linear_in_the_text() {
        let long = "word ".repeat(200_000);
        assert_eq!(find(&long), None);
        let one_run = "a".repeat(1_000_000);
        assert_eq!(find(&one_run), None);
    }
}
