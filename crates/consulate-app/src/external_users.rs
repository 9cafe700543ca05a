//! The external-user lifecycle and `accessPackageSubject`. A governed guest is blocked when its
//! last assignment ends and, when the settings say so, deleted later (an outbox row due at the
//! deletion time); a new assignment before then unblocks it. Guests that are not governed are
//! never touched. Blocking takes effect at once: tokens of a blocked user stop working.

use crate::{App, ServiceResult, prop, target};
use consulate_core::DomainError;
use consulate_core::access::{Caller, Operation, authorize};
use consulate_core::audit::{AuditEvent, Category};
use consulate_core::directory::{User, UserType};
use consulate_core::subject::{LastAssignmentEnded, Subject, SubjectLifecycle};
use consulate_store::WriteTx;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Outbox kind: a blocked guest's deletion time has come.
pub(crate) const DELETE_EXTERNAL_USER: &str = "deleteExternalUser";

/// The deletion as queued: the guest, and the block it follows (a later unblock and block
/// queue a new row; this one then closes without deleting).
#[derive(Debug, Serialize, Deserialize)]
struct Deletion {
    user: Uuid,
    blocked_at: String,
}

/// A user as entitlement management sees it.
#[derive(Debug, Clone)]
pub struct SubjectView {
    pub user: User,
    pub subject: Option<Subject>,
}

impl SubjectView {
    pub fn lifecycle(&self) -> SubjectLifecycle {
        self.subject
            .as_ref()
            .map_or(SubjectLifecycle::NotDefined, |s| s.lifecycle)
    }
}

impl App {
    /// `GET /subjects(objectId='…')`.
    pub async fn subject(&self, caller: &Caller, user: Uuid) -> ServiceResult<SubjectView> {
        authorize(caller, Operation::ReadAssignments)?;
        let u = self.store.user(user).await?;
        Ok(SubjectView {
            subject: self.store.subject(user).await?,
            user: u,
        })
    }

    /// `PATCH /subjects(objectId='…')`: brings a guest under (or out of) the external-user
    /// lifecycle. Only guests can be governed.
    pub async fn set_subject_lifecycle(
        &self,
        caller: &Caller,
        user: Uuid,
        lifecycle: SubjectLifecycle,
    ) -> ServiceResult<()> {
        authorize(caller, Operation::WriteCatalogs)?;
        if lifecycle == SubjectLifecycle::NotDefined {
            return Err(
                DomainError::invalid("subjectLifecycle", "set governed or notGoverned").into(),
            );
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let u = tx.user(user).await?;
        if u.user_type != UserType::Guest && lifecycle == SubjectLifecycle::Governed {
            return Err(DomainError::invalid(
                "subjectLifecycle",
                "only guests can be governed; members are never blocked or deleted",
            )
            .into());
        }
        let before = tx.subject_for_update(user).await?;
        let old = before
            .as_ref()
            .map_or(SubjectLifecycle::NotDefined, |s| s.lifecycle);
        if old == lifecycle {
            return Ok(());
        }
        let mut s = before.unwrap_or(Subject {
            user_id: user,
            lifecycle,
            connected_organization_id: None,
            created_by_request_id: None,
            blocked_at: None,
            delete_at: None,
        });
        s.lifecycle = lifecycle;
        tx.save_subject(&s, now).await?;
        let mut t = target("user", user, Some(&u.user_principal_name));
        t.modified_properties.push(prop(
            "subjectLifecycle",
            Some(old.as_str().into()),
            Some(lifecycle.as_str().into()),
        ));
        let event = self.event(
            caller,
            Category::EntitlementManagement,
            "Update access package subject",
            "subject.update",
            t,
        );
        tx.commit(&[event]).await?;
        Ok(())
    }

    /// In a transaction that just ended one of `user`'s assignments: a governed guest left
    /// with none is blocked (and its deletion queued), as the settings in force say.
    pub(crate) async fn after_assignment_ended(
        &self,
        tx: &mut WriteTx,
        user: Uuid,
        now: jiff::Timestamp,
    ) -> ServiceResult<Option<AuditEvent>> {
        let Some(mut s) = tx.subject_for_update(user).await? else {
            return Ok(None);
        };
        if s.lifecycle != SubjectLifecycle::Governed || s.blocked_at.is_some() {
            return Ok(None);
        }
        if tx.count_active_assignments_of(user).await? > 0 {
            return Ok(None);
        }
        let settings = tx.settings().await?;
        let LastAssignmentEnded::Block { delete_at } =
            consulate_core::subject::on_last_assignment_ended(&settings, now)?
        else {
            return Ok(None);
        };
        tx.set_account_enabled(user, false, now).await?;
        s.blocked_at = Some(now);
        s.delete_at = delete_at;
        tx.save_subject(&s, now).await?;
        if let Some(at) = delete_at {
            let payload = serde_json::to_string(&Deletion {
                user,
                blocked_at: now.to_string(),
            })
            .expect("serialises");
            tx.enqueue(self.ids.new_id(), DELETE_EXTERNAL_USER, &payload, at)
                .await?;
        }
        let mut t = target("user", user, None);
        t.modified_properties.push(prop(
            "accountEnabled",
            Some("true".into()),
            Some("false".into()),
        ));
        t.modified_properties.push(prop(
            "reason",
            None,
            Some("the last access package assignment ended".into()),
        ));
        t.modified_properties.push(prop(
            "deleteAt",
            None,
            Some(delete_at.map_or_else(|| "never".into(), |d| d.to_string())),
        ));
        Ok(Some(self.event(
            &Caller::system(),
            Category::UserManagement,
            "Block external user",
            "externalUser.block",
            t,
        )))
    }

    /// In a transaction that creates an assignment for `user`: a guest blocked because its
    /// last assignment ended is unblocked, and its deletion called off.
    pub(crate) async fn before_assignment_created(
        &self,
        tx: &mut WriteTx,
        user: Uuid,
        now: jiff::Timestamp,
    ) -> ServiceResult<Option<AuditEvent>> {
        let Some(mut s) = tx.subject_for_update(user).await? else {
            return Ok(None);
        };
        if s.blocked_at.is_none() {
            return self.accept_pending_guest(tx, &mut s, now).await;
        }
        tx.set_account_enabled(user, true, now).await?;
        s.blocked_at = None;
        s.delete_at = None;
        tx.save_subject(&s, now).await?;
        let mut t = target("user", user, None);
        t.modified_properties.push(prop(
            "accountEnabled",
            Some("false".into()),
            Some("true".into()),
        ));
        t.modified_properties.push(prop(
            "reason",
            None,
            Some("a new access package assignment was approved".into()),
        ));
        Ok(Some(self.event(
            &Caller::system(),
            Category::UserManagement,
            "Unblock external user",
            "externalUser.unblock",
            t,
        )))
    }

    /// Deletes the blocked guests whose time has come (at most `limit`), in one transaction.
    /// A guest whose grants are still being revoked waits for the next round; a row whose
    /// guest was unblocked (or deleted) meanwhile closes without deleting anything.
    pub async fn delete_due_external_users(&self, limit: i64) -> ServiceResult<usize> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut events = Vec::new();
        let mut closed = 0;
        for (row, payload) in tx.due_outbox(DELETE_EXTERNAL_USER, now, limit).await? {
            let Ok(d) = serde_json::from_str::<Deletion>(&payload) else {
                let mut t = target("outbox", row, None);
                t.modified_properties
                    .push(prop("error", None, Some("unreadable payload".into())));
                events.push(self.event(
                    &Caller::system(),
                    Category::UserManagement,
                    "Discard external user deletion",
                    "externalUser.delete",
                    t,
                ));
                tx.outbox_done(row, now).await?;
                continue;
            };
            let current = tx.subject_for_update(d.user).await?;
            let due = current.as_ref().is_some_and(|s| {
                s.lifecycle == SubjectLifecycle::Governed
                    && s.blocked_at.map(|b| b.to_string()).as_deref() == Some(&d.blocked_at)
                    && s.delete_at.is_some_and(|at| at <= now)
            });
            if !due || tx.count_active_assignments_of(d.user).await? > 0 {
                tx.outbox_done(row, now).await?;
                closed += 1;
                continue;
            }
            if tx.count_granted_to(d.user).await? > 0 {
                continue; // revocations still queued: the next round deletes
            }
            let u = tx.user(d.user).await?;
            // Its sessions end with it (they would otherwise stand for someone from outside).
            for i in &u.identities {
                tx.revoke_sessions_of(&i.issuer, &i.issuer_assigned_id, now)
                    .await?;
            }
            tx.delete_user(d.user).await?;
            tx.outbox_done(row, now).await?;
            let mut t = target("user", d.user, Some(&u.user_principal_name));
            t.modified_properties.push(prop(
                "reason",
                None,
                Some(format!("blocked since {} with no access", d.blocked_at)),
            ));
            events.push(self.event(
                &Caller::system(),
                Category::UserManagement,
                "Delete external user",
                "externalUser.delete",
                t,
            ));
        }
        if events.is_empty() {
            if closed == 0 {
                return Ok(0);
            }
            events.push(self.event(
                &Caller::system(),
                Category::UserManagement,
                "Close stale external user deletions",
                "externalUser.delete",
                target("outbox", DELETE_EXTERNAL_USER, None),
            ));
        }
        let n = events.len();
        tx.commit(&events).await?;
        Ok(n)
    }
}

/// The guest an outside requestor becomes when it first asks for access: recorded with the
/// request (the request needs a directory user as its target), governed by entitlement
/// management, `PendingAcceptance` until a request of theirs is approved.
#[derive(Debug, Clone)]
pub(crate) struct PendingGuest {
    pub(crate) user: User,
    /// How the person signed in: the identity the guest is created with.
    pub(crate) issuer: String,
    pub(crate) subject: String,
    pub(crate) organization: Option<consulate_core::eligibility::RequestorOrganization>,
}

impl App {
    /// The guest for an outside caller signed in as (issuer, subject). By passcode the
    /// subject is the proven address; through an identity provider the address it asserted
    /// (`email`) is kept as the guest's mail for people to read, never to match on.
    pub(crate) async fn pending_guest(
        &self,
        issuer: &str,
        subject: &str,
        email: Option<&str>,
    ) -> ServiceResult<PendingGuest> {
        use consulate_core::sign_in::EMAIL_OTP_ISSUER;
        let tenant_domain = self
            .tenant()
            .await?
            .and_then(|t| t.verified_domains.first().map(|d| d.to_string()))
            .ok_or_else(|| {
                consulate_store::StoreError::Corrupt("the tenant has no verified domain".into())
            })?;
        let by_passcode = issuer == EMAIL_OTP_ISSUER;
        let mail = if by_passcode {
            Some(subject.to_owned())
        } else {
            email
                .and_then(|e| consulate_core::directory::mail_address(e).ok())
                .map(|e| e.to_lowercase())
        };
        let base = match &mail {
            Some(m) => m.replacen('@', "_", 1),
            None => "external".to_owned(),
        };
        // Through an identity provider the name carries a digest of the identity, so an
        // asserted address can never take the name of a guest proven by passcode.
        let local = if by_passcode {
            base
        } else {
            let digest = crate::sign_in::hash(&format!("{issuer}\n{subject}"));
            format!("{base}_{}", &digest[..8])
        };
        let identity = if by_passcode {
            consulate_core::directory::ObjectIdentity::validated("emailAddress", issuer, subject)?
        } else {
            consulate_core::directory::ObjectIdentity::validated("federated", issuer, subject)?
        };
        let user = User {
            id: self.ids.new_id(),
            display_name: mail
                .clone()
                .unwrap_or_else(|| subject.chars().take(64).collect()),
            given_name: None,
            surname: None,
            mail,
            user_principal_name: consulate_core::directory::user_principal_name(&format!(
                "{local}#EXT#@{tenant_domain}"
            ))?,
            user_type: UserType::Guest,
            account_enabled: true,
            identities: vec![identity],
            creation_type: Some("Invitation".into()),
            external_user_state: Some("PendingAcceptance".into()),
            created_date_time: self.clock.now(),
        };
        let organization = self.external_requestor(issuer, subject).await?.organization;
        Ok(PendingGuest {
            user,
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            organization,
        })
    }

    /// Records a pending guest in the request's transaction, with its provenance.
    pub(crate) async fn insert_pending_guest(
        &self,
        tx: &mut WriteTx,
        g: &PendingGuest,
        request: Uuid,
    ) -> ServiceResult<AuditEvent> {
        tx.insert_user(&g.user).await?;
        let now = self.clock.now();
        tx.save_subject(
            &Subject {
                user_id: g.user.id,
                lifecycle: SubjectLifecycle::Governed,
                connected_organization_id: g.organization.map(|o| o.id),
                created_by_request_id: Some(request),
                blocked_at: None,
                delete_at: None,
            },
            now,
        )
        .await?;
        let mut t = target("user", g.user.id, Some(&g.user.user_principal_name));
        t.modified_properties.push(prop(
            "createdBy",
            None,
            Some("entitlement management".into()),
        ));
        t.modified_properties
            .push(prop("request", None, Some(request.to_string())));
        t.modified_properties.push(prop(
            "connectedOrganization",
            None,
            g.organization.map(|o| o.id.to_string()),
        ));
        Ok(self.event(
            &Caller::system(),
            Category::UserManagement,
            "Create external user",
            "externalUser.create",
            t,
        ))
    }
}

impl App {
    /// A guest created by one of its requests, approved for the first time: its invitation
    /// is accepted and, when it came from no known organization, a *proposed* connected
    /// organization for its domain is created (or reused) and recorded as its origin.
    async fn accept_pending_guest(
        &self,
        tx: &mut WriteTx,
        s: &mut Subject,
        now: jiff::Timestamp,
    ) -> ServiceResult<Option<AuditEvent>> {
        let u = tx.user(s.user_id).await?;
        if s.created_by_request_id.is_none()
            || u.external_user_state.as_deref() != Some("PendingAcceptance")
        {
            return Ok(None);
        }
        tx.accept_external_user(u.id, now).await?;
        let mut t = target("user", u.id, Some(&u.user_principal_name));
        t.modified_properties.push(prop(
            "externalUserState",
            Some("PendingAcceptance".into()),
            Some("Accepted".into()),
        ));
        // A proposed organization stands for a domain only when the domain was proven (a
        // passcode guest); an address a provider asserts proves nothing.
        let by_passcode = u
            .identities
            .iter()
            .any(|i| i.issuer == consulate_core::sign_in::EMAIL_OTP_ISSUER);
        if s.connected_organization_id.is_none()
            && by_passcode
            && let Some(domain) = u
                .mail
                .as_deref()
                .and_then(consulate_core::domain_name::DomainName::of_email)
        {
            let source = consulate_core::connected_org::IdentitySource::DomainIdentitySource {
                domain_name: domain.clone(),
                display_name: domain.to_string(),
            };
            let key = source.keys().remove(0).0;
            let org = match tx.organization_by_source_key(&key).await? {
                Some(existing) => existing,
                None => {
                    let org = consulate_core::connected_org::ConnectedOrganization {
                        id: self.ids.new_id(),
                        display_name: domain.to_string(),
                        description: format!(
                            "Proposed automatically when a user from {domain} was approved"
                        ),
                        identity_sources: vec![source],
                        state: consulate_core::connected_org::ConnectedOrganizationState::Proposed,
                        created_date_time: now,
                        modified_date_time: now,
                    };
                    tx.insert_connected_organization(&org).await?;
                    self.org_index.invalidate();
                    self.eligibility.invalidate();
                    t.modified_properties.push(prop(
                        "proposedConnectedOrganization",
                        None,
                        Some(format!("{} ({})", org.id, org.display_name)),
                    ));
                    org.id
                }
            };
            s.connected_organization_id = Some(org);
            tx.save_subject(s, now).await?;
            t.modified_properties
                .push(prop("connectedOrganization", None, Some(org.to_string())));
        }
        Ok(Some(self.event(
            &Caller::system(),
            Category::UserManagement,
            "Accept external user",
            "externalUser.accept",
            t,
        )))
    }

    /// A request from someone outside: they become a pending guest, recorded with the
    /// request, and the request goes on as theirs. Only `userAdd` is open to them.
    pub(crate) async fn submit_external(
        &self,
        caller: &Caller,
        (issuer, subject, email): (String, String, Option<String>),
        new: crate::lifecycle::NewRequest,
    ) -> ServiceResult<consulate_core::lifecycle::AssignmentRequest> {
        authorize(caller, Operation::RequestOwnAccess)?;
        if new.request_type != consulate_core::request::RequestType::UserAdd {
            return Err(DomainError::forbidden(
                "until a request of yours is approved you can only ask for access (userAdd)",
            )
            .into());
        }
        let guest = self
            .pending_guest(&issuer, &subject, email.as_deref())
            .await?;
        let acting = Caller {
            identity: consulate_core::access::CallerIdentity::User {
                user_id: guest.user.id,
                user_principal_name: guest.user.user_principal_name.clone(),
                token_id: None,
            },
            scopes: caller.scopes.clone(),
            roles: Default::default(),
            catalog_roles: Default::default(),
            sign_in: caller.sign_in.clone(),
        };
        let by = consulate_core::lifecycle::RequestedBy::User(guest.user.id);
        let r = self
            .submit_add(&acting, &by, new, None, Some(guest))
            .await?;
        self.delivery.notify_one();
        Ok(r)
    }
}
