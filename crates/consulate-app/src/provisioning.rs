//! The provisioning interface: how a resource role is granted to, or taken back from, a
//! user. Every connector implements [`Provisioner`]; [`DirectoryProvisioner`] serves the
//! resources of Consulate's own directory (group membership and ownership, app roles,
//! directory roles) inside the caller's transaction. Both calls are idempotent.

use consulate_core::resource::Grant;
use consulate_store::{StoreResult, WriteTx};
use uuid::Uuid;

/// Applies grants to one kind of target system.
pub trait Provisioner: Send + Sync {
    /// Gives `user` what `grant` names; false when the user already held it.
    fn grant(
        &self,
        tx: &mut WriteTx,
        grant: &Grant,
        user: Uuid,
        at: jiff::Timestamp,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Takes it back; false when the user did not hold it.
    fn revoke(
        &self,
        tx: &mut WriteTx,
        grant: &Grant,
        user: Uuid,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Gives each (grant, user) of a batch; idempotent like [`Provisioner::grant`].
    fn grant_many(
        &self,
        tx: &mut WriteTx,
        grants: &[(Grant, Uuid)],
        at: jiff::Timestamp,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Takes away each (grant, user) of a batch; idempotent like [`Provisioner::revoke`].
    fn revoke_many(
        &self,
        tx: &mut WriteTx,
        grants: &[(Grant, Uuid)],
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Consulate's own directory.
#[derive(Debug, Default, Clone, Copy)]
pub struct DirectoryProvisioner;

impl Provisioner for DirectoryProvisioner {
    async fn grant(
        &self,
        tx: &mut WriteTx,
        grant: &Grant,
        user: Uuid,
        at: jiff::Timestamp,
    ) -> StoreResult<bool> {
        tx.grant(grant, user, at).await
    }

    async fn revoke(&self, tx: &mut WriteTx, grant: &Grant, user: Uuid) -> StoreResult<bool> {
        tx.revoke(grant, user).await
    }

    async fn grant_many(
        &self,
        tx: &mut WriteTx,
        grants: &[(Grant, Uuid)],
        at: jiff::Timestamp,
    ) -> StoreResult<()> {
        tx.grant_many(grants, at).await
    }

    async fn revoke_many(&self, tx: &mut WriteTx, grants: &[(Grant, Uuid)]) -> StoreResult<()> {
        tx.revoke_many(grants).await
    }
}
