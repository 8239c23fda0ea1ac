//! An app's owner on its page, and the form that transfers it.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::app::components::{Csrf, Done, FieldError, FormError, invalid};
use crate::app::error::AppError;
use crate::app::session::{form_error, succeeded};
use crate::domain::views::AppOwner;

/// Makes the member with this e-mail the app's owner.
#[server(prefix = "/api", endpoint = "transfer_app")]
pub async fn transfer_app(
    csrf: String,
    client_id: String,
    owner_email: String,
) -> Result<AppOwner, AppError> {
    use crate::app::server as portal;
    use crate::services::apps::{NewOwner, transfer_owner};
    portal::member_write(&csrf, async |state, me| {
        transfer_owner(
            &state.db,
            &me.principal,
            &client_id,
            NewOwner::Email(&owner_email),
        )
        .await
        .map_err(portal::service_error)
    })
    .await
}

fn owner_text(owner: &Option<AppOwner>) -> String {
    match owner {
        Some(o) if o.name.is_empty() => o.email.clone(),
        Some(o) => format!("{} ({})", o.name, o.email),
        None => "nobody (made by the command line or an app)".into(),
    }
}

/// The owner, shown, with a form that hands the app to another member of the organization.
#[component]
pub fn OwnerPanel(client_id: String, owner: Option<AppOwner>) -> impl IntoView {
    let transfer = ServerAction::<TransferApp>::new();
    let error = form_error(transfer.value());
    let shown = move || match transfer.value().get() {
        Some(Ok(new)) => owner_text(&Some(new)),
        _ => owner_text(&owner),
    };
    view! {
        <section class="panel">
            <h2>"Owner"</h2>
            <p data-testid="app-owner">{shown}</p>
            <p class="hint">"The owner answers for the app. When they leave the organization, an organization admin becomes its owner."</p>
            <FormError error/>
            <Done done=succeeded(transfer.value()) text="Ownership transferred."/>
            <ActionForm action=transfer attr:class="inline">
                <Csrf/>
                <input type="hidden" name="client_id" value=client_id/>
                <label>"New owner's e-mail"
                    <input type="email" name="owner_email" required autocomplete="off" aria-invalid=invalid(error, "owner_email")/>
                    <FieldError error field="owner_email"/></label>
                <button type="submit">"Transfer ownership"</button>
            </ActionForm>
        </section>
    }
}
