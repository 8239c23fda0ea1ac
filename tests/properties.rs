//! Property tests of every parser that reads outside input: form fields, OAuth request
//! parameters and headers, registered public keys, client assertions, the master key, the
//! issuer, audit-log queries and cache notifications.
//!
//! For arbitrary input (printable Unicode, control characters, strings of several
//! kilobytes, and small edits of valid values) each parser returns a value or its own error
//! type and never panics. Where a parsed value has a canonical text form, parsing that form
//! again gives the same value. Forged or altered client assertions are never accepted.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use http::{HeaderMap, HeaderValue, header};
use latchkey::crypto::master_key::MasterKey;
use latchkey::crypto::{assertions, pkce, public_keys, signing};
use latchkey::domain::api::{self, ApiInput};
use latchkey::domain::app::{
    MAX_REDIRECT_URIS, MAX_URI_LEN, is_native_redirect, parse_website_url,
};
use latchkey::domain::audit::{
    self, ActionMatch, AuditFilter, AuditQuery, PAGE_MAX, RETENTION_MAX_DAYS,
};
use latchkey::domain::authorize::{self, AuthorizeRequest, ClientFacts};
use latchkey::domain::oauth::{self as rules, OAuthError};
use latchkey::domain::policy::AppPolicy;
use latchkey::domain::scope::is_custom_syntax;
use latchkey::domain::{
    AppInput, AppKind, AppSpec, Audience, Email, FieldError, FieldErrors, GrantType, MAX_NAME_LEN,
    RedirectUri, Role, Scope, ScopeSet, TokenLifetimes, parse_name,
};
use latchkey::oauth::client_auth::{self, JWT_BEARER_ASSERTION};
use latchkey::oauth::params::Params;
use latchkey::server::config::parse_issuer;
use latchkey::services::audit::{ExportFormat, inert_cell};
use latchkey::services::tokens::ClientProof;
use latchkey::store::cache::Change;
use latchkey::web::bearer;
use proptest::collection::vec as vec_of;
use proptest::prelude::*;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Longest error message a field parser may return: it quotes the input only in part.
const MAX_MESSAGE: usize = 512;
/// The clock of rules that take the time as an argument.
const NOW: i64 = 1_700_000_000;
/// Unix seconds written as digits are accepted below this (`parse_time`).
const UNIX_SECONDS_LIMIT: i64 = 1 << 40;
const AUDIENCE: &str = "https://id.example.com";
/// RFC 7636 appendix B.
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A P-256 public key (the one of the unit tests of `public_keys`).
const EC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9
q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==
-----END PUBLIC KEY-----";
const EC_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
/// The DER prefix of a P-256 SubjectPublicKeyInfo, before the uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

const SCOPE_WORDS: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "read:org",
    "manage:org",
    "read:users",
    "manage:users",
    "read:apps",
    "manage:apps",
    "read:audit",
    "full",
    "read:full",
    "orders:read",
    "orders:write",
    "billing.v2:invoices-read",
    "a:b",
    "x1:y:z",
    "OPENID",
    "read:everything",
    "manage:x",
    "orders:",
    ":read",
    "1x:y",
    "Orders:read",
];
const VALID_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "offline_access",
    "read:org",
    "manage:apps",
    "read:audit",
    "full",
    "read:full",
    "orders:read",
    "orders:write",
];
const KINDS: &[&str] = &["on-behalf-of-user", "own-behalf"];
const GRANTS: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "password",
    "client_credentials",
    "jwt-bearer",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "authorization_code refresh_token",
    "password,refresh_token",
    "implicit",
];
const USER_GRANTS: &[&str] = &[
    "authorization_code",
    "refresh_token",
    "password",
    "jwt-bearer",
];
const AUDIENCES: &[&str] = &["internal", "everyone", " everyone "];
const REDIRECTS: &[&str] = &[
    "https://app.example.com/cb",
    "https://app.example.com:8443/cb?x=1",
    "http://127.0.0.1:8765/cb",
    "http://localhost/cb",
    "http://[::1]:9000/cb",
    "com.example.app:/oauth2redirect",
];
const BAD_REDIRECTS: &[&str] = &[
    "http://app.example.com/cb",
    "https://*.example.com/cb",
    "https://app.example.com/cb#frag",
    "javascript:alert(1)",
    "data:text/html,x",
    "myapp:/cb",
    "https://user:pw@app.example.com/cb",
    "https://app.example.com/c b",
    "/relative",
];
const URI_PREFIXES: &[&str] = &[
    "https://",
    "https://app.example.com/",
    "http://127.0.0.1:",
    "http://localhost/",
    "com.example.app:/",
    "urn:",
    "",
];
const WEBSITES: &[&str] = &[
    "https://example.com",
    "https://app.example.com/about?x=1",
    "http://127.0.0.1:8080/",
    "http://localhost",
    "https://ÉXAMPLE.com/é",
    "http://example.com",
    "javascript:alert(1)",
    "ftp://example.com",
];
const ID_TOKEN_ALGS: &[&str] = &["RS256", "ES256", "HS256", "none"];
const IDENTIFIERS: &[&str] = &[
    "https://api.example.com/orders",
    "urn:acme:orders",
    "http://localhost:8080/api",
    "http://api.example.com",
    "https://a.example/#x",
    "https://u:p@a.example/",
];
const TIMES: &[&str] = &[
    "1700000000",
    "0",
    "2024-01-31",
    "2024-01-31T12:30",
    "2024-01-31T12:30:59",
    "2024-01-31 12:30",
    "2024-01-31T12:30:59Z",
    "2024-01-31T12:30:59.123+05:30",
    "1969-12-31T23:59:59Z",
    "0000-01-01",
    "-0001-01-01",
    "9999-12-31T23:59:59-23:59",
    "0000-01-01T00:00:00+23:59",
    "1099511627775",
    "1099511627776",
];
const ACTIONS: &[&str] = &[
    "token.issued",
    "token.",
    "token.*",
    "*",
    "app.created",
    "  app.deleted  ",
    "user.*.x",
];
const EDGE_SECONDS: &[i64] = &[
    i64::MIN,
    -1,
    0,
    59,
    60,
    299,
    300,
    86_400,
    86_401,
    31_536_000,
    31_536_001,
    157_680_000,
    157_680_001,
    i64::MAX,
];
const PARAM_NAMES: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "username",
    "password",
    "assertion",
    "client_assertion",
    "client_assertion_type",
    "resource",
    "token",
];
const CLIENT_KEYS: &[&str] = &[
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "grant_type",
];
const CONTENT_TYPES: &[&str] = &[
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=UTF-8",
    "application/json",
    "Application/JSON ; charset=utf-8",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "",
];
const JWT_ALGS: &[&str] = &[
    "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA", "HS256",
    "HS512", "none", "NONE", "es256", "",
];
const PEM_LABELS: &[&str] = &[
    "PUBLIC KEY",
    "RSA PUBLIC KEY",
    "PRIVATE KEY",
    "EC PRIVATE KEY",
    "CERTIFICATE",
    "",
    "PUBLIC KEY-----",
];
/// Characters an edit inserts most often: separators and characters parsers treat specially.
const EDIT_CHARS: &[char] = &[
    ' ',
    '\t',
    '\n',
    '\r',
    '\0',
    ':',
    '/',
    '.',
    '#',
    '*',
    '%',
    '=',
    '&',
    '+',
    '-',
    '_',
    '@',
    '?',
    '"',
    '\\',
    '\'',
    '[',
    ']',
    'A',
    'z',
    '0',
    '\u{a0}',
    '\u{130}',
    '\u{200b}',
    '\u{202e}',
    '\u{feff}',
    '\u{1f600}',
];
/// Offsets of `exp` from now, clear of the edges where the real clock could tip a result.
const EXP_OFFSETS: &[i64] = &[-100, -45, 60, 120, 300, 320, 340, 1_000];
const IAT_OFFSETS: &[i64] = &[-3_600, -10, 0, 20, 45, 100];

// ---- Strategies -------------------------------------------------------------------------

/// A strategy from a regular expression, compiled once.
fn re(pattern: &'static str) -> impl Strategy<Value = String> {
    proptest::string::string_regex(pattern).unwrap()
}

fn chars(cs: Vec<char>) -> String {
    cs.into_iter().collect()
}

/// Any text: printable Unicode, any character at all (control characters included), and
/// long strings of up to about 4 KB.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => re("\\PC{0,40}"),
        3 => vec_of(any::<char>(), 0..40).prop_map(chars),
        1 => vec_of(any::<char>(), 0..256).prop_map(chars),
        1 => long_text(),
    ]
}

/// Text of up to about 4 KB: a random piece, repeated (cheaper to draw than 4 KB of
/// independent characters, and as long).
fn long_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        re("[ -~]{1,64}"),
        vec_of(any::<char>(), 1..16).prop_map(chars),
    ];
    (piece, 1_usize..=64).prop_map(|(chunk, times)| chunk.repeat(times))
}

/// Bytes, up to 4 KB.
fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => vec_of(any::<u8>(), 0..256),
        1 => (vec_of(any::<u8>(), 0..64), 1_usize..=64)
            .prop_map(|(piece, times)| piece.repeat(times)),
    ]
}

/// Short text, for ids and secrets.
fn small_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => re("[A-Za-z0-9._~-]{0,20}"),
        2 => re("\\PC{0,20}"),
        1 => vec_of(any::<char>(), 0..20).prop_map(chars),
    ]
}

/// One small edit of a valid value.
#[derive(Debug, Clone, Copy)]
enum Edit {
    Insert(usize, char),
    Remove(usize),
    Replace(usize, char),
    Truncate(usize),
    Double,
    Upper,
}

fn edit_char() -> impl Strategy<Value = char> {
    prop_oneof![proptest::sample::select(EDIT_CHARS), any::<char>()]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<usize>(), edit_char()).prop_map(|(at, c)| Edit::Insert(at, c)),
        2 => any::<usize>().prop_map(Edit::Remove),
        3 => (any::<usize>(), edit_char()).prop_map(|(at, c)| Edit::Replace(at, c)),
        1 => any::<usize>().prop_map(Edit::Truncate),
        1 => Just(Edit::Double),
        1 => Just(Edit::Upper),
    ]
}

fn apply(value: &str, edits: &[Edit]) -> String {
    let mut cs: Vec<char> = value.chars().collect();
    for edit in edits {
        match *edit {
            Edit::Insert(at, c) => {
                let at = at % (cs.len() + 1);
                cs.insert(at, c);
            }
            Edit::Remove(at) => {
                if !cs.is_empty() {
                    let at = at % cs.len();
                    cs.remove(at);
                }
            }
            Edit::Replace(at, c) => {
                if !cs.is_empty() {
                    let at = at % cs.len();
                    cs[at] = c;
                }
            }
            Edit::Truncate(at) => cs.truncate(at % (cs.len() + 1)),
            Edit::Double => cs.extend_from_within(..),
            Edit::Upper => cs = cs.iter().flat_map(|c| c.to_uppercase()).collect(),
        }
    }
    chars(cs)
}

/// Values of `valid` with one to three small edits.
fn mutated<S: Strategy<Value = String>>(valid: S) -> impl Strategy<Value = String> {
    (valid, vec_of(edit(), 1..4)).prop_map(|(value, edits)| apply(&value, &edits))
}

fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(items).prop_map(String::from)
}

/// Input for one parser: its valid values, edits of them, and anything at all.
fn input(valid: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        2 => one_of(valid),
        3 => mutated(one_of(valid)),
        3 => text(),
    ]
}

/// A field of a form that is mostly filled in right.
fn field(valid: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => one_of(valid),
        1 => mutated(one_of(valid)),
        1 => text(),
    ]
}

/// Empty (an optional field left out) or from `s`.
fn maybe<S: Strategy<Value = String>>(s: S) -> impl Strategy<Value = String> {
    prop_oneof![1 => Just(String::new()), 2 => s]
}

fn name_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => re("[A-Za-z0-9 .'-]{1,40}"),
        2 => mutated(one_of(&["Acme", "  CI bot  ", "é", "<script>'; DROP TABLE apps;--"])),
        1 => re("\\PC{95,105}"),
        2 => text(),
    ]
}

fn scope_word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => one_of(SCOPE_WORDS),
        2 => re("[a-z][a-z0-9_.-]{0,20}:[a-z0-9_.:-]{1,44}"),
        2 => mutated(one_of(SCOPE_WORDS)),
        1 => text(),
    ]
}

/// Scope words joined by some kind of whitespace, as a form or a request sends them.
fn scope_items() -> impl Strategy<Value = String> {
    (
        vec_of(scope_word(), 0..4),
        one_of(&[" ", "  ", "\t", "\n", "\u{3000}", " \u{a0}"]),
    )
        .prop_map(|(words, sep)| words.join(sep.as_str()))
}

fn allowed_scopes() -> impl Strategy<Value = ScopeSet> {
    vec_of(one_of(VALID_SCOPES), 0..6)
        .prop_map(|words| ScopeSet::parse(words.iter().map(String::as_str)).unwrap_or_default())
}

fn uri_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => one_of(REDIRECTS),
        1 => one_of(BAD_REDIRECTS),
        4 => mutated(one_of(REDIRECTS)),
        2 => (one_of(URI_PREFIXES), text()).prop_map(|(prefix, rest)| format!("{prefix}{rest}")),
        1 => text(),
    ]
}

/// Many URIs typed one per line into one field.
fn uri_lines() -> impl Strategy<Value = Vec<String>> {
    (
        vec_of(one_of(REDIRECTS), 0..25),
        one_of(&["\n", "\r\n", "\r"]),
    )
        .prop_map(|(uris, sep)| vec![uris.join(sep.as_str())])
}

fn seconds() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => Just(String::new()),
        3 => (0_i64..200_000_000).prop_map(|n| n.to_string()),
        2 => proptest::sample::select(EDGE_SECONDS).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| format!(" {n}\t")),
        2 => mutated(one_of(&["60", "300", "86400"])),
        1 => text(),
    ]
}

/// A lifetime field as a form sends it: mostly empty (the default) or a sound number.
fn ttl_field() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(String::new()),
        2 => one_of(&["900", "3600", "86400"]),
        1 => seconds(),
    ]
}

/// Whatever a form may submit for an app.
fn app_input() -> BoxedStrategy<AppInput> {
    let head = (
        name_like(),
        field(KINDS),
        vec_of(field(GRANTS), 0..4),
        vec_of(prop_oneof![3 => one_of(REDIRECTS), 1 => uri_like()], 0..3),
    )
        .boxed();
    let middle = (
        prop_oneof![2 => Just(String::new()), 2 => field(WEBSITES), 1 => uri_like()],
        prop_oneof![Just(String::new()), field(AUDIENCES)],
        vec_of(scope_items(), 0..3),
        (ttl_field(), ttl_field(), ttl_field()),
    )
        .boxed();
    let tail = (
        (any::<bool>(), any::<bool>()),
        prop_oneof![2 => Just(String::new()), 1 => field(ID_TOKEN_ALGS)],
        prop_oneof![
            2 => Just(Vec::<String>::new()),
            1 => vec_of(uri_like(), 0..3),
            1 => uri_lines(),
        ],
    )
        .boxed();
    (head, middle, tail)
        .prop_map(|(head, middle, tail)| {
            let (name, kind, grant_types, redirect_uris) = head;
            let (website_url, audience, scopes, (access, refresh, grant)) = middle;
            let ((public_client, skip_consent), id_token_alg, post_logout_redirect_uris) = tail;
            AppInput {
                name,
                kind,
                grant_types,
                redirect_uris,
                website_url,
                audience,
                scopes,
                access_token_ttl: access,
                refresh_token_ttl: refresh,
                grant_ttl: grant,
                public_client,
                id_token_alg,
                post_logout_redirect_uris,
                skip_consent,
                require_par: false,
                require_dpop: false,
                exchange_audiences: Vec::new(),
                backchannel_logout_uri: String::new(),
            }
        })
        .boxed()
}

/// An app form filled in by someone who read the rules, mostly valid.
fn plausible_app_input() -> BoxedStrategy<AppInput> {
    let head = (
        re("[A-Za-z][A-Za-z0-9 ]{0,30}"),
        one_of(KINDS),
        proptest::sample::subsequence(USER_GRANTS, 1..=4),
        vec_of(one_of(REDIRECTS), 1..3),
    )
        .boxed();
    let middle = (
        prop_oneof![Just(String::new()), one_of(WEBSITES)],
        one_of(AUDIENCES),
        vec_of(one_of(VALID_SCOPES), 0..4),
        (ttl_field(), ttl_field(), ttl_field()),
    )
        .boxed();
    let tail = (
        (any::<bool>(), any::<bool>()),
        one_of(&["", "RS256", "ES256"]),
        vec_of(one_of(REDIRECTS), 0..2),
    )
        .boxed();
    (head, middle, tail)
        .prop_map(|(head, middle, tail)| {
            let (name, kind, grants, redirect_uris) = head;
            let (website_url, audience, scopes, (access, refresh, grant)) = middle;
            let ((public_client, skip_consent), id_token_alg, post_logout_redirect_uris) = tail;
            AppInput {
                name,
                kind,
                grant_types: grants.into_iter().map(String::from).collect(),
                redirect_uris,
                website_url,
                audience,
                scopes,
                access_token_ttl: access,
                refresh_token_ttl: refresh,
                grant_ttl: grant,
                public_client,
                id_token_alg,
                post_logout_redirect_uris,
                skip_consent,
                require_par: false,
                require_dpop: false,
                exchange_audiences: Vec::new(),
                backchannel_logout_uri: String::new(),
            }
            .only_fields_of_kind()
        })
        .boxed()
}

/// The form an app's settings are shown in for editing.
fn canonical_app_input(spec: &AppSpec) -> AppInput {
    let uris = |list: &[RedirectUri]| -> Vec<String> {
        list.iter().map(|u| u.as_str().to_string()).collect()
    };
    AppInput {
        name: spec.name.clone(),
        kind: spec.kind.as_str().to_string(),
        grant_types: spec
            .grant_types
            .iter()
            .map(|g| g.as_str().to_string())
            .collect(),
        redirect_uris: uris(spec.redirect_uris.as_slice()),
        website_url: spec.website_url.clone().unwrap_or_default(),
        audience: spec.audience.as_str().to_string(),
        scopes: vec![spec.scopes.to_space_separated()],
        access_token_ttl: spec.lifetimes.access_secs.to_string(),
        refresh_token_ttl: spec.lifetimes.refresh_secs.to_string(),
        grant_ttl: spec.lifetimes.grant_secs.to_string(),
        public_client: spec.public_client,
        skip_consent: spec.skip_consent,
        require_par: spec.require_par,
        require_dpop: spec.require_dpop,
        exchange_audiences: spec.exchange_audiences.clone(),
        backchannel_logout_uri: spec.backchannel_logout_uri.clone().unwrap_or_default(),
        id_token_alg: spec.id_token_alg.to_string(),
        post_logout_redirect_uris: uris(spec.post_logout_redirect_uris.as_slice()),
    }
}

fn email_like() -> impl Strategy<Value = String> {
    const EMAILS: &[&str] = &[
        "ada@example.com",
        "first.last+tag@sub.example.org",
        "admin@localhost",
        "  Ada@Example.COM ",
        "İstanbul@example.com",
    ];
    prop_oneof![
        2 => one_of(EMAILS),
        3 => mutated(one_of(EMAILS)),
        3 => re("[A-Za-z0-9._%+-]{1,30}@[A-Za-z0-9-]{1,20}(\\.[A-Za-z0-9-]{1,10}){0,3}"),
        2 => (re("\\PC{1,20}"), re("\\PC{1,20}")).prop_map(|(local, domain)| format!("{local}@{domain}")),
        1 => (re("[a-z]{1,70}"), re("[a-z]{1,200}")).prop_map(|(local, domain)| format!("{local}@{domain}.com")),
        1 => text(),
    ]
}

/// An API's scopes as typed into its form: one per line, a name and its plain words.
fn api_scopes_text() -> impl Strategy<Value = String> {
    let words = prop_oneof![
        2 => Just(String::new()),
        2 => re("\\PC{0,60}"),
        1 => re("[a-z ]{190,210}"),
        1 => text(),
    ];
    let line = prop_oneof![
        4 => (scope_word(), words).prop_map(|(name, words)| format!("{name} {words}")),
        1 => text(),
    ];
    prop_oneof![
        4 => (vec_of(line, 0..6), one_of(&["\n", "\r\n", "\n\n", "\n \t"]))
            .prop_map(|(lines, sep)| lines.join(sep.as_str())),
        1 => (1_usize..60).prop_map(|n| {
            (0..n)
                .map(|i| format!("s{i}:read"))
                .collect::<Vec<_>>()
                .join("\n")
        }),
    ]
}

fn time_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => one_of(TIMES),
        3 => mutated(one_of(TIMES)),
        2 => re("[0-9]{1,20}"),
        2 => re("[+-]?[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?)?"),
        1 => text(),
    ]
}

fn number_like() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => (0_i64..5_000).prop_map(|n| n.to_string()),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => mutated(one_of(&["50", "200", "365", "3650"])),
        1 => text(),
    ]
}

fn audit_query() -> impl Strategy<Value = AuditQuery> {
    let times = (maybe(time_like()), maybe(time_like()));
    let who = (
        maybe(text()),
        maybe(prop_oneof![re("[a-z0-9-]{1,36}"), text()]),
    );
    let what = (maybe(field(ACTIONS)), maybe(input(&["success", "failure"])));
    let page = (maybe(number_like()), maybe(number_like()));
    let range = maybe(input(&["hour", "day", "today", "yesterday", "week"]));
    let place = (maybe(text()), maybe(text()));
    (times, who, what, page, (range, place)).prop_map(
        |(
            (from, to),
            (app, user),
            (action, outcome),
            (before, limit),
            (range, (business_group, environment)),
        )| AuditQuery {
            from,
            to,
            range,
            app,
            user,
            action,
            outcome,
            business_group,
            environment,
            before,
            limit,
        },
    )
}

/// The canonical text of a time `parse_time` returned: Unix seconds, or (before 1970, which
/// digits cannot say) a date and time in UTC.
fn time_text(t: i64) -> Option<String> {
    if (0..UNIX_SECONDS_LIMIT).contains(&t) {
        return Some(t.to_string());
    }
    let at = time::OffsetDateTime::from_unix_timestamp(t).ok()?;
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]"
    ))
    .ok()
}

/// The query that selects what `filter` selects, as the viewer's links write it.
fn canonical_query(filter: &AuditFilter) -> Option<AuditQuery> {
    let at = |t: Option<i64>| match t {
        None => Some(String::new()),
        Some(t) => time_text(t),
    };
    Some(AuditQuery {
        from: at(filter.from)?,
        to: at(filter.to)?,
        range: String::new(),
        app: filter.app.clone().unwrap_or_default(),
        user: filter.user.clone().unwrap_or_default(),
        action: match &filter.action {
            None => String::new(),
            Some(ActionMatch::Exact(action)) => action.clone(),
            Some(ActionMatch::Prefix(prefix)) if prefix.ends_with('.') => prefix.clone(),
            Some(ActionMatch::Prefix(prefix)) => format!("{prefix}*"),
        },
        outcome: match filter.success {
            None => String::new(),
            Some(true) => "success".to_string(),
            Some(false) => "failure".to_string(),
        },
        business_group: filter.business_group.clone().unwrap_or_default(),
        environment: filter.environment.clone().unwrap_or_default(),
        before: filter.before.map(|b| b.to_string()).unwrap_or_default(),
        limit: filter.limit.to_string(),
    })
}

/// The parameters of an authorization request, each present or not, with some others.
fn authorize_params() -> impl Strategy<Value = Vec<(String, String)>> {
    use proptest::option::weighted;
    let core = (
        weighted(0.9, field(&["code", "token", "code id_token"])),
        weighted(
            0.9,
            prop_oneof![
                3 => Just(CHALLENGE.to_string()),
                2 => re("[A-Za-z0-9_-]{43}"),
                2 => mutated(Just(CHALLENGE.to_string())),
                1 => text(),
            ],
        ),
        weighted(0.9, field(&["S256", "plain"])),
        weighted(0.7, scope_items()),
    );
    let prompts = (
        weighted(
            0.4,
            field(&[
                "none",
                "login",
                "consent",
                "select_account",
                "login consent",
                "none consent",
                " login  consent ",
            ]),
        ),
        weighted(
            0.3,
            prop_oneof![re("[0-9]{1,10}"), re("[+-]?[0-9]{1,25}"), text()],
        ),
        weighted(0.2, field(&["query", "fragment"])),
    );
    let values = (
        weighted(0.5, text()),
        weighted(0.5, text()),
        weighted(0.3, text()),
    );
    let unsupported = (
        weighted(0.05, text()),
        weighted(0.05, text()),
        vec_of((small_text(), text()), 0..3),
    );
    (core, prompts, values, unsupported).prop_map(|(core, prompts, values, unsupported)| {
        let (response_type, challenge, method, scope) = core;
        let (prompt, max_age, response_mode) = prompts;
        let (state, nonce, login_hint) = values;
        let (request, request_uri, others) = unsupported;
        let named = [
            ("response_type", response_type),
            ("code_challenge", challenge),
            ("code_challenge_method", method),
            ("scope", scope),
            ("prompt", prompt),
            ("max_age", max_age),
            ("response_mode", response_mode),
            ("state", state),
            ("nonce", nonce),
            ("login_hint", login_hint),
            ("request", request),
            ("request_uri", request_uri),
        ];
        others
            .into_iter()
            .chain(
                named
                    .into_iter()
                    .filter_map(|(name, value)| value.map(|v| (name.to_string(), v))),
            )
            .collect::<Vec<_>>()
    })
}

/// The parameters that ask for exactly `req` again.
fn canonical_authorize(req: &AuthorizeRequest) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let mut put = |name: &str, value: &str| {
        params.insert(name.to_string(), value.to_string());
    };
    put("response_type", "code");
    put("code_challenge", req.code_challenge.as_str());
    put("code_challenge_method", "S256");
    if !req.scopes.is_empty() {
        put("scope", req.scopes.as_str());
    }
    let prompt = match (req.prompt_none, req.prompt_consent, req.prompt_login) {
        (true, _, _) => "none",
        (false, true, true) => "consent login",
        (false, true, false) => "consent",
        (false, false, true) => "login",
        (false, false, false) => "",
    };
    if !prompt.is_empty() {
        put("prompt", prompt);
    }
    if let (false, Some(after)) = (req.prompt_login, req.fresh_after) {
        put("max_age", (NOW - after).to_string().as_str());
    }
    for (name, value) in [
        ("state", &req.state),
        ("nonce", &req.nonce),
        ("login_hint", &req.login_hint),
    ] {
        if let Some(value) = value {
            put(name, value.as_str());
        }
    }
    params
}

fn form_encode(pairs: &[(String, String)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        form.append_pair(name, value);
    }
    form.finish()
}

fn form_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![3 => one_of(PARAM_NAMES), 1 => small_text(), 1 => text()];
    let value = prop_oneof![2 => small_text(), 1 => text()];
    vec_of((name, value), 0..8)
}

fn form_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => form_pairs().prop_map(|pairs| form_encode(&pairs).into_bytes()),
        2 => mutated(form_pairs().prop_map(|pairs| form_encode(&pairs))).prop_map(String::into_bytes),
        2 => any_bytes(),
        1 => re("[a-z_=&%+0-9A-F]{0,200}").prop_map(String::into_bytes),
        1 => text().prop_map(String::into_bytes),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => text().prop_map(Value::String),
        2 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        1 => vec_of(small_text(), 0..3).prop_map(Value::from),
    ]
}

fn json_body() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![3 => one_of(PARAM_NAMES), 1 => small_text(), 1 => text()];
    prop_oneof![
        4 => vec_of((name, json_value()), 0..8)
            .prop_map(|fields| Value::Object(fields.into_iter().collect()).to_string().into_bytes()),
        1 => mutated(Just(r#"{"grant_type":"client_credentials","scope":"read:apps"}"#.to_string()))
            .prop_map(String::into_bytes),
        1 => one_of(&[
            "[]",
            "null",
            "\"x\"",
            "{",
            "{\"a\":1,\"a\":2}",
            "{\"a\":{\"b\":1}}",
            "{\"a\":1e999}",
            "{\"a\":-0.0}",
        ])
        .prop_map(String::into_bytes),
    ]
}

fn content_type() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => one_of(CONTENT_TYPES).prop_map(String::into_bytes),
        2 => mutated(one_of(CONTENT_TYPES)).prop_map(String::into_bytes),
        1 => vec_of(any::<u8>(), 0..64),
    ]
}

fn basic(credentials: &str) -> Vec<u8> {
    format!("Basic {}", STANDARD.encode(credentials)).into_bytes()
}

/// `Authorization` header values: Basic credentials well and badly formed, other schemes,
/// and bytes a header may not hold.
fn authorization_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => (small_text(), small_text()).prop_map(|(id, secret)| basic(&format!("{id}:{secret}"))),
        1 => small_text().prop_map(|credentials| basic(&credentials)),
        1 => vec_of(any::<u8>(), 0..48).prop_map(|raw| {
            let mut value = b"Basic ".to_vec();
            value.extend(STANDARD.encode(raw).into_bytes());
            value
        }),
        2 => re("(Basic|basic|BASIC|Bearer|bearer|Digest|) ?[A-Za-z0-9+/=._~-]{0,80}")
            .prop_map(String::into_bytes),
        1 => mutated(Just("Basic YXBwOnNlY3JldA==".to_string())).prop_map(String::into_bytes),
        1 => one_of(&["Basic", "Basic ", "Bearer", "Bearer ", "Bearer  abc ", "basic Og==", "Basic  YTpi"])
            .prop_map(String::into_bytes),
        1 => (one_of(&["Basic", "Bearer"]), text()).prop_map(|(scheme, rest)| format!("{scheme} {rest}").into_bytes()),
        1 => any_bytes(),
    ]
}

fn client_params() -> impl Strategy<Value = Vec<(String, String)>> {
    let value = prop_oneof![
        3 => small_text(),
        2 => Just(JWT_BEARER_ASSERTION.to_string()),
        2 => jwt_like(),
        1 => text(),
    ];
    vec_of((one_of(CLIENT_KEYS), value), 0..5)
}

fn b64url_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => vec_of(any::<u8>(), 0..96).prop_map(|raw| URL_SAFE_NO_PAD.encode(raw)),
        1 => re("[A-Za-z0-9_-]{0,40}"),
        1 => re("[A-Za-z0-9+/=_-]{0,40}"),
        1 => small_text(),
    ]
}

fn header_segment() -> impl Strategy<Value = String> {
    (
        one_of(JWT_ALGS),
        proptest::option::of(small_text()),
        proptest::option::of(one_of(&["JWT", "at+jwt", "x"])),
    )
        .prop_map(|(alg, kid, typ)| {
            let mut header = Map::new();
            header.insert("alg".to_string(), Value::String(alg));
            for (name, value) in [("kid", kid), ("typ", typ)] {
                if let Some(value) = value {
                    header.insert(name.to_string(), Value::String(value));
                }
            }
            URL_SAFE_NO_PAD.encode(Value::Object(header).to_string())
        })
}

fn claims_segment() -> impl Strategy<Value = String> {
    let claim = prop_oneof![
        3 => small_text().prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        2 => ((NOW - 1_000)..(NOW + 1_000)).prop_map(Value::from),
        1 => Just(Value::Null),
        1 => vec_of(small_text(), 0..3).prop_map(Value::from),
    ];
    let names = one_of(&["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]);
    vec_of((names, claim), 0..8).prop_map(|fields| {
        URL_SAFE_NO_PAD.encode(Value::Object(fields.into_iter().collect()).to_string())
    })
}

fn joined((header, claims, signature): (String, String, String)) -> String {
    format!("{header}.{claims}.{signature}")
}

/// Strings shaped like a JWT (`header.payload.signature`) that nobody signed.
fn jwt_like() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => (header_segment(), claims_segment(), b64url_segment()).prop_map(joined),
        2 => (b64url_segment(), b64url_segment(), b64url_segment()).prop_map(joined),
        1 => vec_of(b64url_segment(), 0..5).prop_map(|segments| segments.join(".")),
        1 => mutated((header_segment(), claims_segment(), b64url_segment()).prop_map(joined)),
        1 => text(),
    ]
}

fn wrap64(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 64 + 1);
    for (i, c) in text.chars().enumerate() {
        if i > 0 && i.is_multiple_of(64) {
            out.push('\n');
        }
        out.push(c);
    }
    out
}

/// DER-looking bytes: a SEQUENCE tag, then `rest`.
fn der_like(rest: &[u8]) -> Vec<u8> {
    std::iter::once(0x30).chain(rest.iter().copied()).collect()
}

fn pem_block() -> impl Strategy<Value = String> {
    let body = prop_oneof![
        3 => vec_of(any::<u8>(), 0..300).prop_map(|der| STANDARD.encode(der)),
        2 => vec_of(any::<u8>(), 31..300).prop_map(|rest| STANDARD.encode(der_like(&rest))),
        1 => re("[A-Za-z0-9+/=\n ]{0,200}"),
        1 => text(),
    ];
    (
        one_of(PEM_LABELS),
        proptest::option::weighted(0.2, one_of(PEM_LABELS)),
        body,
        any::<bool>(),
    )
        .prop_map(|(label, end, body, wrap)| {
            let end = end.as_deref().unwrap_or(label.as_str());
            let body = if wrap { wrap64(&body) } else { body };
            format!("-----BEGIN {label}-----\n{body}\n-----END {end}-----\n")
        })
}

fn pem_like() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => vec_of(pem_block(), 1..4).prop_map(|blocks| blocks.concat()),
        2 => mutated(pem_block()),
        1 => (text(), pem_block(), text()).prop_map(|(before, block, after)| format!("{before}{block}{after}")),
    ]
}

fn jwk_member() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => vec_of(any::<u8>(), 0..300).prop_map(|raw| Value::String(URL_SAFE_NO_PAD.encode(raw))),
        1 => small_text().prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        1 => Just(Value::Null),
    ]
}

fn jwk() -> impl Strategy<Value = Value> {
    (
        proptest::option::weighted(0.9, one_of(&["RSA", "EC", "OKP", "oct", "rsa", ""])),
        proptest::option::of(one_of(&[
            "P-256",
            "P-384",
            "P-521",
            "Ed25519",
            "X25519",
            "secp256k1",
        ])),
        proptest::option::of(one_of(&[
            "ES256", "RS256", "EdDSA", "HS256", "PS512", "none",
        ])),
        proptest::option::of(small_text()),
        vec_of(
            (
                one_of(&["n", "e", "x", "y", "d", "k", "use", "key_ops"]),
                jwk_member(),
            ),
            0..6,
        ),
    )
        .prop_map(|(kty, crv, alg, kid, members)| {
            let mut key = Map::new();
            for (name, value) in [("kty", kty), ("crv", crv), ("alg", alg), ("kid", kid)] {
                if let Some(value) = value {
                    key.insert(name.to_string(), Value::String(value));
                }
            }
            key.extend(members);
            Value::Object(key)
        })
}

fn jwks_like() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => vec_of(jwk(), 0..4).prop_map(|keys| json!({ "keys": keys }).to_string()),
        1 => mutated(Just(EC_JWKS.to_string())),
        1 => one_of(&[
            "{}",
            "{\"keys\":{}}",
            "{\"keys\":null}",
            "{\"keys\":[1]}",
            "{\"keys\":[{}]}",
            "{",
        ]),
    ]
}

/// Text registered as an app's public keys: PEM- and JWKS-looking, real keys, edits, junk.
fn keys_text() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => text(),
        3 => pem_like(),
        3 => jwks_like(),
        1 => mutated(Just(EC_PEM.to_string())),
        1 => Just(EC_PEM.to_string()),
        1 => Just(EC_JWKS.to_string()),
    ]
}

// ---- Helpers ------------------------------------------------------------------------------

/// A field error names its field and says what is wrong without echoing unbounded input.
fn check_error(e: &FieldError) -> Result<(), TestCaseError> {
    prop_assert!(!e.field.is_empty());
    prop_assert!(!e.message.is_empty());
    prop_assert!(
        e.message.len() <= MAX_MESSAGE,
        "a message of {} bytes",
        e.message.len()
    );
    Ok(())
}

fn check_errors(errors: &FieldErrors) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty());
    for e in &errors.0 {
        check_error(e)?;
    }
    Ok(())
}

fn check_oauth_error(e: &OAuthError) -> Result<(), TestCaseError> {
    prop_assert!(!e.code().is_empty());
    prop_assert!(e.description().len() <= MAX_MESSAGE);
    Ok(())
}

/// Every pair reads back from `params` (an empty value reads as absent).
fn check_params(params: &Params, pairs: &[(String, String)]) -> Result<(), TestCaseError> {
    for (name, value) in pairs {
        let expected = Some(value.as_str()).filter(|v| !v.is_empty());
        prop_assert_eq!(params.get(name), expected);
    }
    Ok(())
}

fn failed(what: impl std::fmt::Debug) -> TestCaseError {
    TestCaseError::fail(format!("{what:?}"))
}

fn hex(bytes: &[u8], upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(digits[usize::from(b >> 4)]));
        out.push(char::from(digits[usize::from(b & 0x0f)]));
    }
    out
}

fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn real_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// A P-256 key of a client, registered as PEM or as a JWKS.
struct Signer {
    der: Vec<u8>,
    pem: String,
    jwks: String,
}

fn signer() -> &'static Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let key = signing::generate_es256().unwrap();
        Signer {
            pem: spki_pem(&key.public_jwk),
            jwks: json!({ "keys": [key.public_jwk] }).to_string(),
            der: key.pkcs8,
        }
    })
}

/// The SubjectPublicKeyInfo PEM of a P-256 key given as a JWK.
fn spki_pem(jwk: &Value) -> String {
    let mut der = P256_SPKI_PREFIX.to_vec();
    der.push(4);
    for coordinate in ["x", "y"] {
        let b64 = jwk[coordinate].as_str().unwrap_or_default();
        der.extend(URL_SAFE_NO_PAD.decode(b64).unwrap_or_default());
    }
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        wrap64(&STANDARD.encode(der))
    )
}

fn sign(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_der(&signer().der);
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

// ---- Form fields and domain rules ---------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn scope_parses_or_refuses(raw in scope_word()) {
        match Scope::parse(&raw) {
            Ok(scope) => {
                prop_assert_eq!(scope.as_str(), raw.as_str());
                prop_assert_eq!(scope.is_custom(), scope.description().is_empty());
                let again = Scope::parse(scope.as_str());
                prop_assert_eq!(again, Ok(scope));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn scope_sets_round_trip(items in vec_of(scope_items(), 0..5)) {
        match ScopeSet::parse(items.iter().map(String::as_str)) {
            Ok(set) => {
                for word in items.iter().flat_map(|item| item.split_whitespace()) {
                    prop_assert!(set.contains(word));
                }
                let names = set.names();
                let mut distinct = names.clone();
                distinct.sort();
                distinct.dedup();
                prop_assert_eq!(distinct.len(), names.len());
                let text = set.to_space_separated();
                prop_assert_eq!(ScopeSet::parse([text.as_str()]), Ok(set.clone()));
                prop_assert_eq!(ScopeSet::parse(names.iter().map(String::as_str)), Ok(set));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn app_kind_round_trips(raw in input(KINDS)) {
        match AppKind::parse(&raw) {
            Ok(kind) => {
                prop_assert_eq!(kind.as_str(), raw.trim());
                prop_assert_eq!(AppKind::parse(kind.as_str()), Ok(kind));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn grant_type_round_trips(raw in input(GRANTS)) {
        match GrantType::parse(&raw) {
            Ok(grant) => {
                let jwt_bearer_alias = grant == GrantType::JwtBearer && raw.trim() == "jwt-bearer";
                prop_assert!(grant.as_str() == raw.trim() || jwt_bearer_alias);
                prop_assert_eq!(GrantType::parse(grant.as_str()), Ok(grant));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn audience_round_trips(raw in input(AUDIENCES)) {
        match Audience::parse(&raw) {
            Ok(audience) => {
                prop_assert_eq!(audience.as_str(), raw.trim());
                prop_assert_eq!(Audience::parse(audience.as_str()), Ok(audience));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn role_round_trips(raw in input(&["admin", "auditor", "member", " admin "])) {
        match Role::parse(&raw) {
            Ok(role) => {
                prop_assert_eq!(role.as_str(), raw.trim());
                prop_assert_eq!(Role::parse(role.as_str()), Ok(role));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn app_policy_round_trips(raw in input(&["unrestricted", "restricted", " restricted "])) {
        match AppPolicy::parse(&raw) {
            Ok(policy) => {
                prop_assert_eq!(policy.as_str(), raw.trim());
                prop_assert_eq!(AppPolicy::parse(policy.as_str()), Ok(policy));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn export_format_round_trips(raw in input(&["csv", "ndjson", ""])) {
        match ExportFormat::parse(&raw) {
            Ok(format) => {
                let canonical = match format {
                    ExportFormat::Csv => "csv",
                    ExportFormat::Ndjson => "ndjson",
                };
                prop_assert!(raw == canonical || (raw.is_empty() && format == ExportFormat::Csv));
                prop_assert_eq!(ExportFormat::parse(canonical), Ok(format));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn export_cells_are_inert(
        cell in prop_oneof![
            text(),
            mutated(one_of(&["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain"])),
        ],
    ) {
        let out: &str = &inert_cell(&cell);
        prop_assert!(!out.starts_with(['=', '+', '-', '@', '\t', '\r']));
        prop_assert!(out == cell || out.strip_prefix('\'') == Some(cell.as_str()));
    }

    #[test]
    fn redirect_uris_round_trip(raw in uri_like()) {
        match RedirectUri::parse(&raw) {
            Ok(uri) => {
                let text = uri.as_str();
                prop_assert_eq!(text, raw.trim());
                prop_assert!(text.len() <= MAX_URI_LEN);
                prop_assert!(!text.contains(['#', '*']));
                prop_assert!(!text.chars().any(|c| c.is_whitespace() || c.is_control()));
                let https = text.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("https:"));
                prop_assert_eq!(is_native_redirect(text), !https);
                prop_assert_eq!(RedirectUri::parse(text), Ok(uri.clone()));
            }
            Err(e) => check_error(&e)?,
        }
        let _ = is_native_redirect(&raw);
    }

    #[test]
    fn website_urls_round_trip(
        raw in prop_oneof![1 => Just(String::new()), 3 => input(WEBSITES), 2 => uri_like()],
    ) {
        match parse_website_url(&raw) {
            Ok(None) => {
                prop_assert!(raw.trim().is_empty());
            }
            Ok(Some(url)) => {
                prop_assert!(url.starts_with("https://") || url.starts_with("http://"));
                // The serialized URL percent-encodes what the raw text held as is, so it may
                // pass the length limit the raw text kept within.
                if url.len() <= MAX_URI_LEN {
                    prop_assert_eq!(parse_website_url(&url), Ok(Some(url.clone())));
                }
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn lifetimes_round_trip(access in seconds(), refresh in seconds(), grant in seconds()) {
        match TokenLifetimes::parse(&access, &refresh, &grant) {
            Ok(lifetimes) => {
                for (secs, (min, max)) in [
                    (lifetimes.access_secs, TokenLifetimes::ACCESS_BOUNDS),
                    (lifetimes.refresh_secs, TokenLifetimes::REFRESH_BOUNDS),
                    (lifetimes.grant_secs, TokenLifetimes::GRANT_BOUNDS),
                ] {
                    prop_assert!((min..=max).contains(&secs));
                }
                let again = TokenLifetimes::parse(
                    &lifetimes.access_secs.to_string(),
                    &lifetimes.refresh_secs.to_string(),
                    &lifetimes.grant_secs.to_string(),
                );
                prop_assert_eq!(again, Ok(lifetimes));
            }
            Err(errors) => check_errors(&errors)?,
        }
    }

    /// A lifetime written in words, as the portal shows and takes it, reads back the same,
    /// and any text either parses to a bounded answer or is refused with words.
    #[test]
    fn lifetimes_in_words_round_trip(secs in 1i64..=(5 * 365 * 86_400), noise in ".{0,20}") {
        let words = latchkey::domain::duration::format(secs);
        prop_assert_eq!(latchkey::domain::duration::parse(&words), Some(secs));
        match TokenLifetimes::parse(&words, "", "") {
            Ok(l) => prop_assert_eq!(l.access_secs, secs),
            Err(errors) => check_errors(&errors)?,
        }
        if let Err(errors) = TokenLifetimes::parse(&noise, &format!("{secs}{noise}"), &noise) {
            check_errors(&errors)?;
        }
    }

    #[test]
    fn app_specs_keep_their_rules_and_round_trip(
        input in prop_oneof![app_input(), plausible_app_input()],
        has_public_keys in any::<bool>(),
    ) {
        match AppSpec::validate(&input, has_public_keys) {
            Ok(spec) => {
                prop_assert!(!spec.grant_types.is_empty());
                prop_assert!(spec.grant_types.iter().all(|g| spec.kind.allowed_grants().contains(g)));
                prop_assert!(spec.grant_types.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(spec.redirect_uris.len() <= MAX_REDIRECT_URIS);
                prop_assert!(spec.post_logout_redirect_uris.len() <= MAX_REDIRECT_URIS);
                if spec.uses(GrantType::AuthorizationCode) {
                    prop_assert!(!spec.redirect_uris.is_empty());
                }
                if spec.uses(GrantType::JwtBearer) {
                    prop_assert!(has_public_keys);
                }
                if spec.public_client {
                    prop_assert!(!spec.uses(GrantType::Password));
                }
                if spec.kind == AppKind::OwnBehalf {
                    prop_assert_eq!(spec.audience, Audience::Internal);
                    prop_assert!(!spec.public_client);
                    prop_assert!(spec.scopes.iter().all(|s| !s.is_user_only()));
                }
                // See `website_urls_round_trip` on serialized URLs over the limit.
                if spec.website_url.as_ref().is_none_or(|u| u.len() <= MAX_URI_LEN) {
                    let again = AppSpec::validate(&canonical_app_input(&spec), has_public_keys);
                    prop_assert_eq!(again, Ok(spec));
                }
            }
            Err(errors) => check_errors(&errors)?,
        }
    }

    #[test]
    fn names_round_trip(raw in name_like()) {
        match parse_name("name", &raw) {
            Ok(name) => {
                prop_assert_eq!(name.as_str(), raw.trim());
                prop_assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_LEN);
                prop_assert!(!name.chars().any(char::is_control));
                prop_assert_eq!(parse_name("name", &name), Ok(name.clone()));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn emails_round_trip(raw in email_like()) {
        match Email::parse(&raw) {
            Ok(email) => {
                prop_assert_eq!(email.as_str(), raw.trim().to_lowercase());
                prop_assert!(email.as_str().len() <= Email::MAX_LEN);
                prop_assert_eq!(email.as_str().matches('@').count(), 1);
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn api_identifiers_round_trip(raw in prop_oneof![input(IDENTIFIERS), uri_like()]) {
        match api::parse_identifier(&raw) {
            Ok(identifier) => {
                prop_assert_eq!(identifier.as_str(), raw.trim());
                prop_assert!(identifier.len() <= 200);
                prop_assert_eq!(api::parse_identifier(&identifier), Ok(identifier.clone()));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn api_scopes_round_trip(raw in api_scopes_text()) {
        match api::parse_scopes(&raw) {
            Ok(scopes) => {
                prop_assert!(!scopes.is_empty() && scopes.len() <= api::MAX_SCOPES);
                for (name, words) in &scopes {
                    prop_assert!(is_custom_syntax(name));
                    prop_assert_eq!(words.as_str(), words.trim());
                }
                let mut names: Vec<&str> = scopes.iter().map(|(name, _)| name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                prop_assert_eq!(names.len(), scopes.len());
                let text = api::scopes_text(&scopes);
                prop_assert_eq!(api::parse_scopes(&text), Ok(scopes.clone()));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn api_inputs_round_trip(
        name in name_like(),
        identifier in prop_oneof![2 => field(IDENTIFIERS), 1 => uri_like()],
        scopes in api_scopes_text(),
    ) {
        let input = ApiInput { name, identifier, scopes };
        match input.parse() {
            Ok(spec) => {
                let again = ApiInput {
                    name: spec.name.clone(),
                    identifier: spec.identifier.clone(),
                    scopes: api::scopes_text(&spec.scopes),
                };
                prop_assert_eq!(again.parse(), Ok(spec));
            }
            Err(errors) => check_errors(&errors)?,
        }
    }

    #[test]
    fn audit_times_round_trip(raw in time_like()) {
        match audit::parse_time("from", &raw) {
            Ok(t) => {
                if raw.bytes().all(|b| b.is_ascii_digit()) {
                    prop_assert_eq!(raw.parse::<i64>().ok(), Some(t));
                }
                if let Some(canonical) = time_text(t) {
                    prop_assert_eq!(audit::parse_time("from", &canonical), Ok(t));
                }
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn audit_retention_round_trips(
        raw in prop_oneof![number_like(), mutated(one_of(&["365", "1", "3650"]))],
    ) {
        match audit::parse_retention(&raw) {
            Ok(days) => {
                prop_assert!((1..=RETENTION_MAX_DAYS).contains(&days));
                prop_assert_eq!(audit::parse_retention(&days.to_string()), Ok(days));
            }
            Err(e) => check_error(&e)?,
        }
    }

    #[test]
    fn audit_filters_are_bounded_and_round_trip(query in audit_query()) {
        // Any fixed moment: a period (`range`) is read relative to it.
        const NOW: i64 = 1_795_689_015;
        match query.parse(NOW) {
            Ok(filter) => {
                prop_assert!((1..=PAGE_MAX).contains(&filter.limit));
                prop_assert!(filter.before.is_none_or(|b| b > 0));
                for text in [&filter.app, &filter.user].into_iter().flatten() {
                    prop_assert!(text.len() <= 200 && text.as_str() == text.trim());
                }
                if let (Some(from), Some(to)) = (filter.from, filter.to) {
                    prop_assert!(from <= to);
                }
                if let Some(canonical) = canonical_query(&filter) {
                    prop_assert_eq!(canonical.parse(NOW), Ok(filter));
                }
            }
            Err(errors) => check_errors(&errors)?,
        }
    }

    #[test]
    fn authorization_requests_round_trip(
        pairs in authorize_params(),
        (enabled, may_use_code) in (proptest::bool::weighted(0.9), proptest::bool::weighted(0.9)),
        allowed in allowed_scopes(),
    ) {
        let params: HashMap<String, String> = pairs.into_iter().collect();
        let facts = ClientFacts {
            client_id: "c1",
            enabled,
            may_use_code,
            allowed: &allowed,
        };
        let redirect_uri = "https://app.example.com/cb".to_string();
        let result = authorize::parse(
            |name: &str| params.get(name).map(String::as_str),
            &facts,
            redirect_uri.clone(),
            NOW,
        );
        match result {
            Ok(req) => {
                prop_assert!(enabled && may_use_code);
                prop_assert_eq!(req.client_id.as_str(), "c1");
                prop_assert_eq!(req.redirect_uri.as_str(), redirect_uri.as_str());
                prop_assert_eq!(req.code_challenge.len(), 43);
                prop_assert!(req.scopes.split_whitespace().all(|s| allowed.contains(s)));
                let mixed = req.prompt_none && (req.prompt_consent || req.prompt_login);
                prop_assert!(!mixed);
                for value in [&req.state, &req.nonce, &req.login_hint].into_iter().flatten() {
                    prop_assert!(value.len() <= 2048);
                }
                let canonical = canonical_authorize(&req);
                let again = authorize::parse(
                    |name: &str| canonical.get(name).map(String::as_str),
                    &facts,
                    redirect_uri.clone(),
                    NOW,
                );
                prop_assert_eq!(again, Ok(req));
            }
            Err(e) => check_oauth_error(&e)?,
        }
    }

    #[test]
    fn redirect_targets_are_registered(
        requested in proptest::option::of(prop_oneof![one_of(REDIRECTS), uri_like()]),
        registered in vec_of(prop_oneof![3 => one_of(REDIRECTS), 1 => uri_like()], 0..4),
    ) {
        match authorize::redirect_target(requested.as_deref(), &registered) {
            Ok(target) => {
                prop_assert!(registered.contains(&target));
                match &requested {
                    Some(requested) => prop_assert_eq!(&target, requested),
                    None => prop_assert_eq!(registered.len(), 1),
                }
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
    }

    #[test]
    fn requested_scopes_stay_within_the_allowed(
        requested in proptest::option::of(scope_items()),
        allowed in allowed_scopes(),
    ) {
        let requested = requested.as_deref();
        for result in [
            rules::user_grant_scopes(requested, &allowed),
            rules::client_credentials_scopes(requested, &allowed),
            rules::narrowed_scopes(requested, &allowed),
        ] {
            match result {
                Ok(set) => prop_assert!(set.iter().all(|s| allowed.contains(s.as_str()))),
                Err(e) => prop_assert_eq!(e.code(), "invalid_scope"),
            }
        }
    }

    #[test]
    fn cache_notifications_round_trip(
        line in prop_oneof![
            input(&["a:app1", "g:grant", "G", "u:user", "p:org", "r:1700000000:jti", "r:-5:x:y", "k"]),
            text(),
        ],
    ) {
        if let Some(change) = Change::decode(&line) {
            let again = Change::decode(&change.encode());
            prop_assert_eq!(again, Some(change));
        }
    }

    #[test]
    fn issuers_round_trip(
        raw in prop_oneof![
            input(&[
                "http://127.0.0.1:3000/",
                "https://id.example.com/tenant",
                "https://id.example.com",
                "ftp://x",
                "https://x/?a=1",
            ]),
            uri_like(),
        ],
    ) {
        match parse_issuer(&raw) {
            Ok(issuer) => {
                prop_assert!(!issuer.ends_with('/'));
                prop_assert_eq!(parse_issuer(&issuer), Ok(issuer.clone()));
            }
            Err(e) => prop_assert!(!e.is_empty()),
        }
    }
}

// ---- Protocol requests --------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn form_parameters_round_trip(body in form_body()) {
        match Params::from_form(&body) {
            Ok(params) => {
                let pairs: Vec<(String, String)> =
                    url::form_urlencoded::parse(&body).into_owned().collect();
                check_params(&params, &pairs)?;
                let again = Params::from_form(form_encode(&pairs).as_bytes()).map_err(failed)?;
                check_params(&again, &pairs)?;
            }
            Err(e) => prop_assert!(matches!(e, OAuthError::InvalidRequest(_))),
        }
    }

    #[test]
    fn request_bodies_round_trip(
        raw_content_type in proptest::option::weighted(0.9, content_type()),
        body in prop_oneof![json_body(), form_body()],
    ) {
        let mut headers = HeaderMap::new();
        if let Some(value) = raw_content_type.and_then(|raw| HeaderValue::from_bytes(&raw).ok()) {
            headers.insert(header::CONTENT_TYPE, value);
        }
        let mime = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match Params::from_body(&headers, &Bytes::from(body.clone())) {
            Ok(params) => {
                let pairs: Vec<(String, String)> = if mime == "application/json" {
                    let doc: Map<String, Value> = serde_json::from_slice(&body).map_err(failed)?;
                    doc.into_iter()
                        .map(|(name, value)| match value {
                            Value::String(s) => (name, s),
                            other => (name, other.to_string()),
                        })
                        .collect()
                } else {
                    prop_assert_eq!(mime.as_str(), "application/x-www-form-urlencoded");
                    url::form_urlencoded::parse(&body).into_owned().collect()
                };
                check_params(&params, &pairs)?;
                // The same parameters, form-encoded, read the same.
                let mut form = HeaderMap::new();
                form.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                let again = Params::from_body(&form, &Bytes::from(form_encode(&pairs)))
                    .map_err(failed)?;
                check_params(&again, &pairs)?;
            }
            Err(e) => prop_assert_eq!(e.code(), "invalid_request"),
        }
    }

    #[test]
    fn presented_client_credentials(
        authorization in proptest::option::weighted(0.7, authorization_value()),
        pairs in client_params(),
    ) {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization.and_then(|raw| HeaderValue::from_bytes(&raw).ok()) {
            headers.insert(header::AUTHORIZATION, value);
        }
        let params = Params::from_form(form_encode(&pairs).as_bytes()).unwrap_or_default();
        let has_header = headers.contains_key(header::AUTHORIZATION);
        match client_auth::presented(&headers, &params) {
            Ok(presented) => match &presented.proof {
                ClientProof::Assertion(assertion) => {
                    prop_assert_eq!(Some(assertion.as_str()), params.get("client_assertion"));
                    prop_assert!(!has_header);
                    prop_assert!(params.get("client_secret").is_none());
                }
                ClientProof::Secret(secret) => {
                    if !has_header {
                        prop_assert_eq!(Some(presented.client_id.as_str()), params.get("client_id"));
                        prop_assert_eq!(Some(secret.expose_secret()), params.get("client_secret"));
                    }
                }
                ClientProof::None => {
                    prop_assert!(!has_header);
                    prop_assert_eq!(Some(presented.client_id.as_str()), params.get("client_id"));
                }
            },
            Err(e) => {
                prop_assert!(matches!(e.code(), "invalid_client" | "invalid_request"));
                check_oauth_error(&e)?;
            }
        }
    }

    #[test]
    fn basic_credentials_round_trip(id in small_text(), secret in small_text()) {
        let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = format!("{}:{}", encode(id.as_str()), encode(secret.as_str()));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(&basic(&credentials)).map_err(failed)?,
        );
        let presented = client_auth::presented(&headers, &Params::default());
        // Control characters (NUL among them) are never part of an id or secret of ours.
        if id.chars().chain(secret.chars()).any(char::is_control) {
            prop_assert!(presented.is_err());
            return Ok(());
        }
        let presented = presented.map_err(failed)?;
        prop_assert_eq!(presented.client_id.as_str(), id.as_str());
        let ClientProof::Secret(presented_secret) = &presented.proof else {
            return Err(TestCaseError::fail("Basic credentials are a secret"));
        };
        prop_assert_eq!(presented_secret.expose_secret(), secret.as_str());
    }

    #[test]
    fn bearer_tokens_are_trimmed_words(value in authorization_value()) {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_bytes(&value) {
            headers.insert(header::AUTHORIZATION, value);
        }
        if let Some(token) = bearer::bearer(&headers) {
            prop_assert!(!token.is_empty());
            prop_assert_eq!(token, token.trim());
        }
    }

    #[test]
    fn public_keys_are_counted(text in keys_text()) {
        match public_keys::validate(&text) {
            Ok(count) => {
                prop_assert!(count >= 1);
                if text.trim_start().starts_with('{') {
                    let doc: Value = serde_json::from_str(text.trim()).map_err(failed)?;
                    prop_assert_eq!(Some(count), doc["keys"].as_array().map(Vec::len));
                }
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
        let padded = format!("\n  {text}\t\n");
        prop_assert_eq!(public_keys::validate(&padded), public_keys::validate(&text));
    }

    #[test]
    fn public_key_blocks_are_each_counted(
        rests in vec_of(vec_of(any::<u8>(), 31..200), 1..4),
        rsa in any::<bool>(),
        wrap in any::<bool>(),
    ) {
        let label = if rsa { "RSA PUBLIC KEY" } else { "PUBLIC KEY" };
        let mut text = String::new();
        for rest in &rests {
            let b64 = STANDARD.encode(der_like(rest));
            let body = if wrap { wrap64(&b64) } else { b64 };
            text.push_str(&format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"));
        }
        prop_assert_eq!(public_keys::validate(&text), Ok(rests.len()));
    }

    #[test]
    fn master_key_text_parses_or_refuses(
        raw in prop_oneof![
            text(),
            re("[0-9a-fA-F]{60,68}"),
            re("[A-Za-z0-9+/=_-]{40,48}"),
            mutated(Just("ab".repeat(32))),
        ],
    ) {
        match MasterKey::parse(&raw) {
            Ok(key) => prop_assert_eq!(key.open(&key.seal(b"x")), Some(b"x".to_vec())),
            Err(message) => prop_assert!(!message.is_empty()),
        }
    }

    #[test]
    fn master_key_lengths(bytes in vec_of(any::<u8>(), 0..64)) {
        let parsed = MasterKey::parse(&STANDARD.encode(bytes.as_slice()));
        prop_assert_eq!(parsed.is_ok(), bytes.len() == 32);
    }

    #[test]
    fn pkce_verifies_exactly_its_challenge(
        verifier in prop_oneof![re("[A-Za-z0-9._~-]{43,128}"), re("[A-Za-z0-9._~-]{30,140}"), text()],
        edits in vec_of(edit(), 1..3),
        challenge in prop_oneof![Just(CHALLENGE.to_string()), text()],
    ) {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        let own = challenge_of(&verifier);
        prop_assert_eq!(pkce::verify(&verifier, &own), well_formed);
        let edited = apply(&own, &edits);
        if edited != own {
            prop_assert!(!pkce::verify(&verifier, &edited));
        }
        let edited = apply(&verifier, &edits);
        if edited != verifier {
            prop_assert!(!pkce::verify(&edited, &own));
        }
        let _ = pkce::verify(&verifier, &challenge);
    }
}

// ---- Keys and client assertions -----------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn forged_assertions_are_refused(
        token in jwt_like(),
        keys in keys_text(),
        client_id in prop_oneof![Just("app".to_string()), small_text()],
        audience in prop_oneof![Just(AUDIENCE.to_string()), small_text()],
    ) {
        let result = assertions::verify(&token, &keys, &client_id, &[audience.as_str()], NOW);
        prop_assert!(result.is_err(), "a forged assertion was accepted: {:?}", result.ok());
    }

    #[test]
    fn master_key_encodings_agree(
        bytes in proptest::array::uniform32(any::<u8>()),
        pad in re("[ \t\n]{0,3}"),
    ) {
        let texts = [
            hex(&bytes, false),
            hex(&bytes, true),
            STANDARD.encode(bytes),
            URL_SAFE.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
        ];
        let mut keys = Vec::new();
        for text in &texts {
            keys.push(MasterKey::parse(&format!("{pad}{text}{pad}")).map_err(failed)?);
        }
        let sealed = keys[0].seal(b"property");
        for key in &keys {
            prop_assert_eq!(key.open(&sealed), Some(b"property".to_vec()));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn signed_assertions_verify_and_any_edit_is_refused(
        sub in small_text(),
        jti in re("[A-Za-z0-9]{1,40}"),
        edits in vec_of(edit(), 1..4),
        as_jwks in any::<bool>(),
    ) {
        let now = real_now();
        let token = sign(&json!({
            "iss": "app",
            "sub": sub.as_str(),
            "aud": AUDIENCE,
            "exp": now + 120,
            "iat": now,
            "jti": jti.as_str(),
        }));
        let keys = if as_jwks { signer().jwks.as_str() } else { signer().pem.as_str() };
        let verified = assertions::verify(&token, keys, "app", &[AUDIENCE], now);
        // A subject with a control character is refused, however well signed.
        if sub.chars().any(char::is_control) {
            prop_assert!(verified.is_err());
            return Ok(());
        }
        let claims = verified.map_err(failed)?;
        prop_assert_eq!(claims.iss.as_str(), "app");
        prop_assert_eq!(claims.sub.as_str(), sub.as_str());
        prop_assert_eq!(claims.jti.as_str(), jti.as_str());
        prop_assert_eq!(claims.exp, now + 120);
        prop_assert!(assertions::verify(&token, keys, "other-app", &[AUDIENCE], now).is_err());
        prop_assert!(
            assertions::verify(&token, keys, "app", &["https://elsewhere.example"], now).is_err()
        );
        let edited = apply(&token, &edits);
        if edited != token {
            prop_assert!(assertions::verify(&edited, keys, "app", &[AUDIENCE], now).is_err());
        }
        let edited_keys = apply(keys, &edits);
        if let Ok(again) = assertions::verify(&token, &edited_keys, "app", &[AUDIENCE], now) {
            prop_assert_eq!(again.jti, claims.jti);
        }
    }

    #[test]
    fn assertion_claims_are_checked(
        iss in one_of(&["app", "other", ""]),
        aud in prop_oneof![
            Just(json!(AUDIENCE)),
            Just(json!("https://elsewhere.example")),
            Just(json!([AUDIENCE, "x"])),
            Just(json!([])),
        ],
        exp in proptest::sample::select(EXP_OFFSETS),
        iat in proptest::option::of(proptest::sample::select(IAT_OFFSETS)),
        jti in prop_oneof![
            Just(String::new()),
            re("[a-z]{1,40}"),
            Just("x".repeat(200)),
            Just("x".repeat(201)),
        ],
        has_sub in proptest::bool::weighted(0.8),
    ) {
        let now = real_now();
        let mut claims = Map::new();
        claims.insert("iss".to_string(), json!(iss));
        claims.insert("aud".to_string(), aud.clone());
        claims.insert("exp".to_string(), json!(now + exp));
        if let Some(iat) = iat {
            claims.insert("iat".to_string(), json!(now + iat));
        }
        claims.insert("jti".to_string(), json!(jti));
        if has_sub {
            claims.insert("sub".to_string(), json!("user@example.com"));
        }
        let token = sign(&Value::Object(claims));
        let aud_ok = aud == json!(AUDIENCE)
            || aud.as_array().is_some_and(|a| a.contains(&json!(AUDIENCE)));
        let expected = iss == "app"
            && aud_ok
            && exp > 0
            && exp <= assertions::MAX_LIFETIME_SECS + 30
            && iat.is_none_or(|i| i <= 30)
            && (1..=200).contains(&jti.len())
            && has_sub;
        let result = assertions::verify(&token, &signer().pem, "app", &[AUDIENCE], now);
        prop_assert_eq!(result.is_ok(), expected);
    }
}
