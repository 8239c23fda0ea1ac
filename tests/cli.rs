//! The command line against a fresh database: JSON on stdout, one-line errors and a
//! non-zero exit on bad input or configuration.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::Value;

fn latchkey(db: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let dir = std::env::temp_dir().join("latchkey-tests");
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .args(args)
        .env_clear()
        .env("LATCHKEY_DATABASE_URL", db)
        .env("LATCHKEY_DATA_DIR", &dir)
        .env(
            "LATCHKEY_MASTER_KEY",
            "0000000000000000000000000000000000000000000000000000000000000000",
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run latchkey");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn ok_json(out: Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn one_line_error(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "one line, no backtrace: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(out.stdout.is_empty());
    err
}

on_both!(
    cli_creates_orgs_users_and_apps,
    cli_refuses_bad_input,
    master_key_generated_on_sqlite_required_on_postgres
);

async fn cli_creates_orgs_users_and_apps(b: Backend) {
    let db = fresh_database(b).await;
    assert_eq!(ok_json(latchkey(&db, &["migrate"], None))["migrated"], true);
    let org = ok_json(latchkey(&db, &["org", "create", "--name", "Acme"], None));
    let org_id = org["id"].as_str().unwrap().to_string();
    let list = ok_json(latchkey(&db, &["org", "list"], None));
    assert_eq!(list[0]["name"], "Acme");

    let user = ok_json(latchkey(
        &db,
        &[
            "user",
            "create",
            "--org",
            &org_id,
            "--email",
            "Ops@Example.com",
            "--name",
            "Ops",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    ));
    assert_eq!(user["email"], "ops@example.com");
    assert_eq!(user["role"], "admin");

    let own = ok_json(latchkey(
        &db,
        &[
            "app",
            "create",
            "--org",
            &org_id,
            "--name",
            "CI",
            "--kind",
            "own-behalf",
            "--grant-types",
            "client_credentials",
            "--scopes",
            "read:apps manage:apps",
        ],
        None,
    ));
    let secret = own["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("lks_"));
    assert!(own["client_id"].as_str().unwrap().len() >= 20);

    let spa = ok_json(latchkey(
        &db,
        &[
            "app",
            "create",
            "--org",
            &org_id,
            "--name",
            "SPA",
            "--kind",
            "on-behalf-of-user",
            "--grant-types",
            "authorization_code,refresh_token",
            "--redirect-uri",
            "http://127.0.0.1:8765/cb",
            "--redirect-uri",
            "https://spa.example.com/cb",
            "--scopes",
            "openid profile offline_access",
            "--public",
            "--audience",
            "everyone",
        ],
        None,
    ));
    assert!(
        spa.get("client_secret").is_none(),
        "public clients have no secret"
    );
    assert_eq!(spa["app"]["redirect_uris"].as_array().unwrap().len(), 2);
    assert_eq!(spa["app"]["audience"], "everyone");

    let key =
        std::env::temp_dir().join(format!("lk-key-{}.pem", latchkey::crypto::random_token(6)));
    std::fs::write(&key, "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n").unwrap();
    let jwt = ok_json(latchkey(
        &db,
        &[
            "app",
            "create",
            "--org",
            &org_id,
            "--name",
            "Backend",
            "--kind",
            "on-behalf-of-user",
            "--grant-types",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "--public-key-file",
            key.to_str().unwrap(),
        ],
        None,
    ));
    assert!(
        jwt["app"]["public_keys"]
            .as_str()
            .unwrap()
            .contains("BEGIN PUBLIC KEY")
    );

    let apps = ok_json(latchkey(&db, &["app", "list", "--org", &org_id], None));
    let names: Vec<&str> = apps
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Backend", "CI", "SPA"]);
    assert!(
        !String::from_utf8_lossy(&latchkey(&db, &["app", "list", "--org", &org_id], None).stdout)
            .contains(secret)
    );

    // The audit chains of what the commands did verify.
    let report = ok_json(latchkey(&db, &["audit", "verify"], None));
    assert_eq!(report["intact"], true, "{report}");
    let org_chain = report["chains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["chain"] == org_id.as_str())
        .unwrap()
        .clone();
    assert!(org_chain["records"].as_u64().unwrap() >= 4, "{org_chain}");
}

async fn cli_refuses_bad_input(b: Backend) {
    let db = fresh_database(b).await;
    let org_id = ok_json(latchkey(&db, &["org", "create", "--name", "Acme"], None))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let create = |extra: &[&str]| {
        let mut args = vec!["app", "create", "--org", org_id.as_str(), "--name", "X"];
        args.extend_from_slice(extra);
        latchkey(&db, &args, None)
    };
    let err = one_line_error(&create(&[
        "--kind",
        "own-behalf",
        "--grant-types",
        "authorization_code",
    ]));
    assert!(
        err.contains("not allowed for an app acting on its own behalf"),
        "{err}"
    );
    let err = one_line_error(&create(&[
        "--kind",
        "on-behalf-of-user",
        "--grant-types",
        "authorization_code",
    ]));
    assert!(err.contains("needs at least one redirect URI"), "{err}");
    let err = one_line_error(&create(&[
        "--kind",
        "on-behalf-of-user",
        "--grant-types",
        "password",
        "--scopes",
        "root",
    ]));
    assert!(err.contains("unknown scope"), "{err}");
    let err = one_line_error(&create(&[
        "--kind",
        "on-behalf-of-user",
        "--grant-types",
        "jwt-bearer",
    ]));
    assert!(err.contains("needs a registered public key"), "{err}");
    let err = one_line_error(&create(&[
        "--kind",
        "own-behalf",
        "--grant-types",
        "client_credentials",
        "--access-token-ttl",
        "5",
    ]));
    assert!(err.contains("access token ttl must be between"), "{err}");
    one_line_error(&create(&[
        "--kind",
        "on-behalf-of-user",
        "--grant-types",
        "authorization_code",
        "--redirect-uri",
        "http://evil.example/cb",
    ]));
    ok_json(create(&[
        "--kind",
        "own-behalf",
        "--grant-types",
        "client_credentials",
    ]));
    let err = one_line_error(&create(&[
        "--kind",
        "own-behalf",
        "--grant-types",
        "client_credentials",
    ]));
    assert!(err.contains("already used"), "{err}");
    let err = one_line_error(&latchkey(
        &db,
        &["app", "list", "--org", "no-such-org"],
        None,
    ));
    assert!(err.contains("no organization"), "{err}");
    let err = one_line_error(&latchkey(
        &db,
        &[
            "user",
            "create",
            "--org",
            &org_id,
            "--email",
            "a@example.com",
            "--name",
            "A",
        ],
        None,
    ));
    assert!(err.contains("--password-stdin"), "{err}");
    let err = one_line_error(&latchkey(
        &db,
        &[
            "user",
            "create",
            "--org",
            &org_id,
            "--email",
            "nope",
            "--name",
            "A",
            "--password-stdin",
        ],
        Some("short"),
    ));
    assert!(err.contains("e-mail") && err.contains("password"), "{err}");
    let err = one_line_error(&latchkey(
        &db,
        &["--issuer", "ftp://nowhere", "org", "list"],
        None,
    ));
    assert!(err.contains("LATCHKEY_ISSUER"), "{err}");
    let err = one_line_error(&latchkey("mysql://x", &["org", "list"], None));
    assert!(err.contains("LATCHKEY_DATABASE_URL"), "{err}");
    let mut bad_key = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    bad_key
        .args(["org", "list"])
        .env_clear()
        .env("LATCHKEY_DATABASE_URL", &db)
        .env("LATCHKEY_MASTER_KEY", "too-short");
    let err = one_line_error(&bad_key.output().unwrap());
    assert!(err.contains("LATCHKEY_MASTER_KEY"), "{err}");
    let apps = ok_json(latchkey(&db, &["app", "list", "--org", &org_id], None));
    assert_eq!(apps.as_array().unwrap().len(), 1, "nothing half-written");
}

async fn master_key_generated_on_sqlite_required_on_postgres(b: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let db = fresh_database(b).await;
    let dir = std::env::temp_dir()
        .join("latchkey-tests")
        .join(format!("data-{}", latchkey::crypto::random_token(6)));
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .args(["org", "list"])
            .env_clear()
            .env("LATCHKEY_DATABASE_URL", &db)
            .env("LATCHKEY_DATA_DIR", &dir)
            .output()
            .unwrap()
    };
    match b {
        Backend::Sqlite => {
            ok_json(run());
            let key = dir.join("master.key");
            let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let text = std::fs::read_to_string(&key).unwrap();
            ok_json(run());
            assert_eq!(
                std::fs::read_to_string(&key).unwrap(),
                text,
                "generated once, then reused"
            );
        }
        Backend::Postgres => {
            let err = one_line_error(&run());
            assert!(err.contains("LATCHKEY_MASTER_KEY"), "{err}");
        }
    }
}
