//! Multi-factor sign-in: an organization's policy, and what a sign-in used as OpenID
//! Connect says it (`amr`, RFC 8176; `acr`).

use serde::{Deserialize, Serialize};

use super::Role;

/// Who in an organization must sign in with a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum MfaPolicy {
    /// Each user chooses.
    #[default]
    Optional,
    /// The organization's admins (role admin).
    Admins,
    /// Every member.
    Everyone,
}

impl MfaPolicy {
    pub const ALL: [MfaPolicy; 3] = [MfaPolicy::Optional, MfaPolicy::Admins, MfaPolicy::Everyone];

    pub fn as_str(self) -> &'static str {
        match self {
            MfaPolicy::Optional => "optional",
            MfaPolicy::Admins => "admins",
            MfaPolicy::Everyone => "everyone",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    /// What the portal calls it.
    pub fn label(self) -> &'static str {
        match self {
            MfaPolicy::Optional => "Optional: each user chooses",
            MfaPolicy::Admins => "Required for admins",
            MfaPolicy::Everyone => "Required for everyone",
        }
    }

    /// Whether a member with `role` must have signed in with a second factor.
    pub fn requires(self, role: Role) -> bool {
        match self {
            MfaPolicy::Optional => false,
            MfaPolicy::Admins => role == Role::Admin,
            MfaPolicy::Everyone => true,
        }
    }
}

/// How a user proved who they are, as RFC 8176 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// A password.
    Pwd,
    /// A code from an authenticator app (TOTP).
    Otp,
    /// A single-use recovery code (something the user kept: RFC 8176 has no closer value
    /// than a one-time password).
    Recovery,
    /// The organization's own identity provider signed the user in (`fed`, as Microsoft's
    /// and others' tokens say it).
    Fed,
    /// The same, where the provider said it used a second factor (its `amr` had `mfa`).
    FedMfa,
    /// A passkey bound to its device (a security key, a platform authenticator that keeps
    /// its keys): proof of possession of a hardware-secured key, the user verified by the
    /// device (a PIN or biometric).
    PasskeyDevice,
    /// A passkey its provider syncs between devices (backup eligible): a software-secured
    /// key, the user verified by the device.
    PasskeySynced,
}

impl Method {
    /// Whether this is a passkey (the user verified by their device: two factors at once).
    pub fn is_passkey(self) -> bool {
        matches!(self, Method::PasskeyDevice | Method::PasskeySynced)
    }

    /// The method of a passkey, by whether its provider syncs it.
    pub fn passkey(synced: bool) -> Self {
        if synced {
            Method::PasskeySynced
        } else {
            Method::PasskeyDevice
        }
    }
}

/// The `amr` of a sign-in with `methods`: each method's RFC 8176 value, and `mfa` when
/// there were two factors.
pub fn amr(methods: &[Method]) -> Vec<&'static str> {
    let mut out = Vec::new();
    for m in methods {
        let v = match m {
            Method::Pwd => "pwd",
            Method::Otp | Method::Recovery => "otp",
            Method::Fed | Method::FedMfa => "fed",
            Method::PasskeyDevice => "hwk",
            Method::PasskeySynced => "swk",
        };
        if !out.contains(&v) {
            out.push(v);
        }
        // The device verified the user (webauthn-rs requires it of passkeys).
        if m.is_passkey() && !out.contains(&"user") {
            out.push("user");
        }
    }
    if is_multi_factor(methods) {
        out.push("mfa");
    }
    out
}

/// Whether `methods` include a factor beyond the first (a password or the provider's
/// sign-in), or one method was itself multi-factor (a passkey: something the user has,
/// verified by something they know or are; the provider's multi-factor sign-in).
pub fn is_multi_factor(methods: &[Method]) -> bool {
    let first = methods
        .iter()
        .any(|m| matches!(m, Method::Pwd | Method::Fed));
    let second = methods
        .iter()
        .any(|m| matches!(m, Method::Otp | Method::Recovery));
    (first && second)
        || methods
            .iter()
            .any(|m| *m == Method::FedMfa || m.is_passkey())
}

/// Whether an `amr` as stored (space-separated) says multi-factor.
pub fn amr_is_multi_factor(amr: &str) -> bool {
    amr.split(' ').any(|v| v == "mfa")
}

/// The `acr` of a multi-factor sign-in: the value Auth0 and others use, so that clients
/// asking `acr_values` for it get what they mean.
pub const ACR_MFA: &str = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";
/// The `acr` of a sign-in with one factor.
pub const ACR_PASSWORD: &str = "urn:latchkey:acr:password";
/// The `acr_values` Latchkey understands (discovery lists them).
pub const ACR_SUPPORTED: [&str; 2] = [ACR_PASSWORD, ACR_MFA];

/// The `acr` for a sign-in whose `amr` is `amr` (space-separated).
pub fn acr_of(amr: &str) -> &'static str {
    if amr_is_multi_factor(amr) {
        ACR_MFA
    } else {
        ACR_PASSWORD
    }
}

/// Whether `acr_values` (space-separated, in order of preference) can only be met by a
/// multi-factor sign-in: the client asked for MFA and nothing weaker we know.
pub fn acr_values_need_mfa(acr_values: &str) -> bool {
    let mut asked = acr_values.split_whitespace();
    let all: Vec<&str> = asked.by_ref().collect();
    all.contains(&ACR_MFA) && !all.contains(&ACR_PASSWORD)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn policy_by_role() {
        assert!(!MfaPolicy::Optional.requires(Role::Admin));
        assert!(MfaPolicy::Admins.requires(Role::Admin));
        assert!(!MfaPolicy::Admins.requires(Role::Member));
        assert!(!MfaPolicy::Admins.requires(Role::Auditor));
        assert!(MfaPolicy::Everyone.requires(Role::Member));
        for p in MfaPolicy::ALL {
            assert_eq!(MfaPolicy::parse(p.as_str()), Some(p));
        }
        assert_eq!(MfaPolicy::parse("sometimes"), None);
    }

    #[test]
    fn amr_values() {
        assert_eq!(amr(&[Method::Pwd]), vec!["pwd"]);
        assert_eq!(amr(&[Method::Pwd, Method::Otp]), vec!["pwd", "otp", "mfa"]);
        assert_eq!(
            amr(&[Method::Pwd, Method::Recovery]),
            vec!["pwd", "otp", "mfa"]
        );
        assert_eq!(amr(&[Method::Fed]), vec!["fed"]);
        assert_eq!(amr(&[Method::FedMfa]), vec!["fed", "mfa"]);
        assert_eq!(amr(&[Method::Fed, Method::Otp]), vec!["fed", "otp", "mfa"]);
        assert!(!is_multi_factor(&[Method::Otp]));
        assert_eq!(amr(&[Method::PasskeyDevice]), vec!["hwk", "user", "mfa"]);
        assert_eq!(amr(&[Method::PasskeySynced]), vec!["swk", "user", "mfa"]);
        assert_eq!(
            amr(&[Method::Pwd, Method::PasskeyDevice]),
            vec!["pwd", "hwk", "user", "mfa"]
        );
        assert!(amr_is_multi_factor("pwd otp mfa"));
        assert!(!amr_is_multi_factor("pwd"));
        assert_eq!(acr_of("pwd otp mfa"), ACR_MFA);
        assert_eq!(acr_of("pwd"), ACR_PASSWORD);
    }

    #[test]
    fn acr_values_asking_for_mfa() {
        assert!(acr_values_need_mfa(ACR_MFA));
        assert!(!acr_values_need_mfa(&format!("{ACR_MFA} {ACR_PASSWORD}")));
        assert!(!acr_values_need_mfa("urn:other"));
        assert!(!acr_values_need_mfa(""));
    }
}
