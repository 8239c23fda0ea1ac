//! The fields of the app form, shared by the create and edit pages. Which fields a kind
//! uses is decided by CSS (`:has`) on the create page, so it works without JavaScript.

use leptos::prelude::*;

use crate::app::components::{FieldError, format_duration, invalid};
use crate::app::error::AppError;
use crate::app::session::{kept, kept_all};
use crate::domain::app::ID_TOKEN_ALGS;
use crate::domain::scope::CATALOGUE;
use crate::domain::views::AppView;
use crate::domain::{AppKind, GrantType, TokenLifetimes};

#[component]
pub fn AppFields(
    /// The app being edited; None on the create page.
    app: Option<AppView>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let kind = app.as_ref().and_then(|a| AppKind::parse(&a.kind).ok());
    let user_kind = kind != Some(AppKind::OwnBehalf);
    let has = |list: Option<&Vec<String>>, v: &str| list.is_some_and(|l| l.iter().any(|x| x == v));
    // After a failed post without JavaScript, the fields show what was sent.
    let sent = kept("app[name]").is_some();
    let text = |field: &str, otherwise: String| {
        if sent {
            kept(field).unwrap_or_default()
        } else {
            otherwise
        }
    };
    let grants = if sent {
        kept_all("app[grant_types][]")
    } else {
        app.as_ref().map(|a| a.grant_types.clone())
    };
    let scopes = if sent {
        kept_all("app[scopes][]")
    } else {
        app.as_ref().map(|a| a.scopes.clone())
    };
    let name = text(
        "app[name]",
        app.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
    );
    let redirect_uris = text(
        "app[redirect_uris][]",
        app.as_ref()
            .map(|a| a.redirect_uris.join("\n"))
            .unwrap_or_default(),
    );
    let logout_uris = text(
        "app[post_logout_redirect_uris][]",
        app.as_ref()
            .map(|a| a.post_logout_redirect_uris.join("\n"))
            .unwrap_or_default(),
    );
    let grant_lifetime = app
        .as_ref()
        .map(|a| a.grant_ttl)
        .filter(|t| *t > 0)
        .unwrap_or(TokenLifetimes::DEFAULT_GRANT);
    let website = text(
        "app[website_url]",
        app.as_ref()
            .and_then(|a| a.website_url.clone())
            .unwrap_or_default(),
    );
    let audience = text(
        "app[audience]",
        app.as_ref()
            .map(|a| a.audience.clone())
            .unwrap_or_else(|| "internal".into()),
    );
    let access = app
        .as_ref()
        .map(|a| a.access_token_ttl)
        .unwrap_or(TokenLifetimes::DEFAULT_ACCESS);
    let refresh = app
        .as_ref()
        .map(|a| a.refresh_token_ttl)
        .unwrap_or(TokenLifetimes::DEFAULT_REFRESH);
    let keys = text(
        "public_keys",
        app.as_ref()
            .and_then(|a| a.public_keys.clone())
            .unwrap_or_default(),
    );
    let id_token_alg = text(
        "app[id_token_alg]",
        app.as_ref()
            .map(|a| a.id_token_alg.clone())
            .unwrap_or_else(|| ID_TOKEN_ALGS[0].into()),
    );
    let access_text = text("app[access_token_ttl]", format_duration(access));
    let refresh_text = text("app[refresh_token_ttl]", format_duration(refresh));
    let grant_text = text("app[grant_ttl]", format_duration(grant_lifetime));
    let kind_sent = kept("app[kind]");
    let own_sent = kind_sent.as_deref() == Some("own-behalf");
    let public_sent = kept("app[public_client]").is_some();
    let skip_consent = if sent {
        kept("app[skip_consent]").is_some()
    } else {
        app.as_ref().is_some_and(|a| a.skip_consent)
    };
    let require_par = if sent {
        kept("app[require_par]").is_some()
    } else {
        app.as_ref().is_some_and(|a| a.require_par)
    };
    let require_dpop = if sent {
        kept("app[require_dpop]").is_some()
    } else {
        app.as_ref().is_some_and(|a| a.require_dpop)
    };
    let exchange_text = if sent {
        kept_all("app[exchange_audiences][]")
            .unwrap_or_default()
            .join("\n")
    } else {
        app.as_ref()
            .map(|a| a.exchange_audiences.join("\n"))
            .unwrap_or_default()
    };
    let backchannel_text = text(
        "app[backchannel_logout_uri]",
        app.as_ref()
            .and_then(|a| a.backchannel_logout_uri.clone())
            .unwrap_or_default(),
    );
    let is_new = app.is_none();
    let alg_options = ID_TOKEN_ALGS
        .iter()
        .map(|a| view! { <option value=*a selected=id_token_alg == *a>{*a}</option> })
        .collect_view();

    let user_grants = AppKind::OnBehalfOfUser.allowed_grants().iter().map(|g| {
        let checked = has(grants.as_ref(), g.as_str())
            || (is_new && !sent && *g == GrantType::AuthorizationCode);
        view! {
            <label class="check">
                <input type="checkbox" name="app[grant_types][]" value=g.as_str() checked=checked/>
                {g.label()}
            </label>
        }
    }).collect_view();

    let custom_scopes = scopes
        .as_ref()
        .map(|list| {
            list.iter()
                .filter(|s| !s.is_empty() && !CATALOGUE.iter().any(|(c, _)| c == s))
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let scope_boxes = CATALOGUE
        .iter()
        .map(|(s, desc)| {
            let user_only = crate::domain::scope::USER_ONLY.contains(s);
            let class = if user_only {
                "check only-user"
            } else {
                "check"
            };
            let checked = has(scopes.as_ref(), s);
            (user_kind || !user_only).then(|| {
                view! {
                    <label class=class>
                        <input type="checkbox" name="app[scopes][]" value=*s checked=checked/>
                        <code>{*s}</code> " — " {*desc}
                    </label>
                }
            })
        })
        .collect_view();

    view! {
        <label>"Name"
            <input type="text" name="app[name]" aria-invalid=invalid(error, "name") value=name required maxlength="100"/>
            <FieldError error field="name"/>
        </label>
        {is_new.then(|| view! {
            <fieldset class="kind">
                <legend>"Kind"</legend>
                <label class="check">
                    <input type="radio" name="app[kind]" value="on-behalf-of-user" checked=!own_sent/>
                    <strong>"On behalf of a user"</strong> " — a user signs in and consents; the app acts as that user."
                </label>
                <label class="check">
                    <input type="radio" name="app[kind]" value="own-behalf" checked=own_sent/>
                    <strong>"On its own behalf"</strong> " — automation (CI/CD) with client credentials, inside this organization only."
                </label>
                <FieldError error field="kind"/>
            </fieldset>
        })}
        {user_kind.then(|| view! {
            <fieldset class="only-user">
                <legend>"Grant types"</legend>
                {user_grants}
                <FieldError error field="grant_types"/>
            </fieldset>
            <label class="only-user">"Redirect URIs (one per line)"
                <textarea name="app[redirect_uris][]" aria-invalid=invalid(error, "redirect_uris") rows="3" placeholder="https://app.example.com/callback">{redirect_uris}</textarea>
                <FieldError error field="redirect_uris"/>
            </label>
            <label class="only-user">"Post-logout redirect URIs (one per line; followed only with an ID token of this app)"
                <textarea name="app[post_logout_redirect_uris][]" aria-invalid=invalid(error, "post_logout_redirect_uris") rows="2" placeholder="https://app.example.com/signed-out">{logout_uris}</textarea>
                <FieldError error field="post_logout_redirect_uris"/>
            </label>
            <label class="only-user">"Who may authorize it"
                <select name="app[audience]">
                    <option value="internal" selected=audience == "internal">"Users of this organization only"</option>
                    <option value="everyone" selected=audience == "everyone">"Users of any organization"</option>
                </select>
                <FieldError error field="audience"/>
            </label>
            <label class="check only-user">
                <input type="checkbox" name="app[skip_consent]" value="true" checked=skip_consent
                    aria-invalid=invalid(error, "skip_consent") aria-describedby="skip-consent-hint"/>
                "First-party app: don't ask this organization's users to consent"
                <FieldError error field="skip_consent"/>
            </label>
            <p class="hint only-user" id="skip-consent-hint">"Only for apps your organization runs itself, open to its own users only. Organization admins alone may turn it on; users still see the app under My authorized apps and may revoke it."</p>
            <label class="check only-user">
                <input type="checkbox" name="app[require_par]" value="true" checked=require_par
                    aria-describedby="require-par-hint"/>
                "Require pushed authorization requests (PAR)"
            </label>
            <p class="hint only-user" id="require-par-hint">"The app must post each authorization request to the PAR endpoint first (RFC 9126): its parameters never travel through the browser. FAPI 2.0 requires it."</p>
            <label class="only-user">"Back-channel logout URI (signed logout tokens are posted here when a user's session ends)"
                <input type="url" name="app[backchannel_logout_uri]" aria-invalid=invalid(error, "backchannel_logout_uri") value=backchannel_text maxlength="2000" placeholder="https://app.example.com/backchannel-logout"/>
                <FieldError error field="backchannel_logout_uri"/>
            </label>
            <label class="only-user">"APIs it may exchange users' tokens for (identifiers, one per line; with the token exchange grant)"
                <textarea name="app[exchange_audiences][]" aria-invalid=invalid(error, "exchange_audiences") rows="2" placeholder="https://orders.example.com">{exchange_text}</textarea>
                <FieldError error field="exchange_audiences"/>
            </label>
            <label class="only-user">"ID-token signing algorithm"
                <select name="app[id_token_alg]">{alg_options}</select>
                <FieldError error field="id_token_alg"/>
            </label>
        })}
        {(!user_kind).then(|| view! { <p class="hint">"Grant type: client credentials."</p> })}
        <label>"Website"
            <input type="url" name="app[website_url]" aria-invalid=invalid(error, "website_url") value=website maxlength="2000" placeholder="https://app.example.com"/>
            <FieldError error field="website_url"/>
        </label>
        <label class="check">
            <input type="checkbox" name="app[require_dpop]" value="true" checked=require_dpop
                aria-describedby="require-dpop-hint"/>
            "Require DPoP: sender-constrained tokens"
        </label>
        <p class="hint" id="require-dpop-hint">"Every token request must carry a DPoP proof (RFC 9449); the tokens are bound to the app's key, so a stolen token is useless without it."</p>
        <fieldset>
            <legend>"Scopes it may be granted"</legend>
            <p class="hint"><a href="/admin/scopes" target="_blank" rel="noopener">"What do these scopes mean?"</a> " (opens in a new tab)"</p>
            {scope_boxes}
            <label>"Scopes of your APIs (space-separated, see APIs)"
                <input type="text" name="app[scopes][]" aria-invalid=invalid(error, "scopes") value=custom_scopes maxlength="2000" placeholder="orders:read orders:write"/>
            </label>
            <FieldError error field="scopes"/>
        </fieldset>
        <div class="row">
            <label>"Access tokens last"
                <input type="text" name="app[access_token_ttl]" aria-invalid=invalid(error, "access_token_ttl") value=access_text
                    placeholder="15 minutes" maxlength="40" aria-describedby="lifetime-hint"/>
                <FieldError error field="access_token_ttl"/>
            </label>
            {user_kind.then(|| view! {
                <label class="only-user">"Refresh tokens last"
                    <input type="text" name="app[refresh_token_ttl]" aria-invalid=invalid(error, "refresh_token_ttl") value=refresh_text
                        placeholder="90 days" maxlength="40" aria-describedby="lifetime-hint"/>
                    <FieldError error field="refresh_token_ttl"/>
                </label>
                <label class="only-user">"Sign in again after (however often refreshed)"
                    <input type="text" name="app[grant_ttl]" aria-invalid=invalid(error, "grant_ttl") value=grant_text
                        placeholder="365 days" maxlength="40" aria-describedby="lifetime-hint"/>
                    <FieldError error field="grant_ttl"/>
                </label>
            })}
        </div>
        <p class="hint" id="lifetime-hint">{format!(
            "Durations such as \"15 minutes\", \"12 hours\" or \"90 days\". Access tokens: {} to {}.",
            format_duration(TokenLifetimes::ACCESS_BOUNDS.0),
            format_duration(TokenLifetimes::ACCESS_BOUNDS.1),
        )}</p>
        {is_new.then(|| view! {
            <label class="check only-user">
                <input type="checkbox" name="app[public_client]" value="true" checked=public_sent/>
                "Public client (a browser or native app that cannot keep a secret; uses PKCE)"
                <FieldError error field="public_client"/>
            </label>
        })}
        <label>"Public keys for JWT bearer and private_key_jwt (PEM or JWKS, optional)"
            <textarea name="public_keys" aria-invalid=invalid(error, "public_keys") rows="4" placeholder="-----BEGIN PUBLIC KEY-----">{keys}</textarea>
            <FieldError error field="public_keys"/>
        </label>
    }
}
