//! `user`, `group`, `organization` and `domain` on the wire.

use crate::error::ApiError;
use consulate_app::directory::{GroupPatch, NewGroup, NewUser, UserPatch};
use consulate_core::directory::{Group, ObjectIdentity, Tenant, User, UserType};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectIdentityDto {
    pub sign_in_type: String,
    pub issuer: String,
    pub issuer_assigned_id: String,
}

impl ObjectIdentityDto {
    fn into_domain(self) -> Result<ObjectIdentity, ApiError> {
        Ok(ObjectIdentity::validated(
            &self.sign_in_type,
            &self.issuer,
            &self.issuer_assigned_id,
        )?)
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail: Option<String>,
    pub user_principal_name: String,
    /// `Member` or `Guest`.
    pub user_type: String,
    pub account_enabled: bool,
    pub identities: Vec<ObjectIdentityDto>,
    pub creation_type: Option<String>,
    pub external_user_state: Option<String>,
    pub created_date_time: String,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            odata_type: "#microsoft.graph.user",
            id: u.id.to_string(),
            display_name: u.display_name.clone(),
            given_name: u.given_name.clone(),
            surname: u.surname.clone(),
            mail: u.mail.clone(),
            user_principal_name: u.user_principal_name.clone(),
            user_type: u.user_type.as_str().into(),
            account_enabled: u.account_enabled,
            identities: u
                .identities
                .iter()
                .map(|i| ObjectIdentityDto {
                    sign_in_type: i.sign_in_type.clone(),
                    issuer: i.issuer.clone(),
                    issuer_assigned_id: i.issuer_assigned_id.clone(),
                })
                .collect(),
            creation_type: u.creation_type.clone(),
            external_user_state: u.external_user_state.clone(),
            created_date_time: super::timestamp(u.created_date_time),
        }
    }
}

pub const USER_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "userPrincipalName",
    "userType",
    "accountEnabled",
    "identities",
    "creationType",
    "externalUserState",
    "createdDateTime",
];

/// Graph's password profile; accepted for compatibility and ignored (members sign in by the
/// methods Consulate configures, never with a password set through this API).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordProfile {
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub force_change_password_next_sign_in: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateUser {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub display_name: String,
    pub user_principal_name: String,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub identities: Vec<ObjectIdentityDto>,
    #[serde(default)]
    pub creation_type: Option<String>,
    #[serde(default)]
    pub external_user_state: Option<String>,
    #[serde(default)]
    pub password_profile: Option<PasswordProfile>,
}

fn check_type(t: &Option<String>, expected: &str) -> Result<(), ApiError> {
    match t.as_deref().map(|s| s.trim_start_matches('#')) {
        None => Ok(()),
        Some(s) if s == expected => Ok(()),
        Some(other) => Err(ApiError::bad_request(format!(
            "@odata.type '{other}' is not {expected}"
        ))
        .with_target("@odata.type")),
    }
}

impl CreateUser {
    pub fn into_new(self) -> Result<NewUser, ApiError> {
        check_type(&self.odata_type, "microsoft.graph.user")?;
        let _ = (self.mail_nickname, self.password_profile);
        Ok(NewUser {
            display_name: self.display_name,
            user_principal_name: self.user_principal_name,
            given_name: self.given_name,
            surname: self.surname,
            mail: self.mail,
            user_type: self.user_type.map(|t| UserType::parse(&t)).transpose()?,
            account_enabled: self.account_enabled,
            identities: self
                .identities
                .into_iter()
                .map(ObjectIdentityDto::into_domain)
                .collect::<Result<_, _>>()?,
            creation_type: self.creation_type,
            external_user_state: self.external_user_state,
        })
    }
}

/// Distinguishes an absent property (`None`) from an explicit `null` (`Some(None)`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub surname: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub mail: Option<Option<String>>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub identities: Option<Vec<ObjectIdentityDto>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub external_user_state: Option<Option<String>>,
}

impl UpdateUser {
    pub fn into_patch(self) -> Result<UserPatch, ApiError> {
        check_type(&self.odata_type, "microsoft.graph.user")?;
        let _ = self.mail_nickname;
        Ok(UserPatch {
            display_name: self.display_name,
            user_principal_name: self.user_principal_name,
            given_name: self.given_name,
            surname: self.surname,
            mail: self.mail,
            user_type: self.user_type.map(|t| UserType::parse(&t)).transpose()?,
            account_enabled: self.account_enabled,
            identities: self
                .identities
                .map(|v| {
                    v.into_iter()
                        .map(ObjectIdentityDto::into_domain)
                        .collect::<Result<_, _>>()
                })
                .transpose()?,
            external_user_state: self.external_user_state,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupDto {
    #[serde(rename = "@odata.type")]
    pub odata_type: &'static str,
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub mail_nickname: String,
    pub security_enabled: bool,
    pub mail_enabled: bool,
    pub group_types: Vec<String>,
    pub created_date_time: String,
}

impl From<&Group> for GroupDto {
    fn from(g: &Group) -> Self {
        GroupDto {
            odata_type: "#microsoft.graph.group",
            id: g.id.to_string(),
            display_name: g.display_name.clone(),
            description: g.description.clone(),
            mail_nickname: g.mail_nickname.clone(),
            security_enabled: g.security_enabled,
            mail_enabled: g.mail_enabled,
            group_types: Vec::new(),
            created_date_time: super::timestamp(g.created_date_time),
        }
    }
}

pub const GROUP_PROPERTIES: &[&str] = &[
    "id",
    "displayName",
    "description",
    "mailNickname",
    "securityEnabled",
    "mailEnabled",
    "groupTypes",
    "createdDateTime",
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateGroup {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub mail_nickname: String,
    #[serde(default)]
    pub security_enabled: Option<bool>,
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    #[serde(default)]
    pub group_types: Option<Vec<String>>,
}

impl CreateGroup {
    pub fn into_new(self) -> Result<NewGroup, ApiError> {
        check_type(&self.odata_type, "microsoft.graph.group")?;
        if self.group_types.as_ref().is_some_and(|t| !t.is_empty()) {
            return Err(ApiError::bad_request(
                "groupTypes other than [] (security and distribution groups) are not supported",
            )
            .with_target("groupTypes"));
        }
        Ok(NewGroup {
            display_name: self.display_name,
            description: self.description,
            mail_nickname: self.mail_nickname,
            security_enabled: self.security_enabled,
            mail_enabled: self.mail_enabled,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateGroup {
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub mail_nickname: Option<String>,
    #[serde(default)]
    pub security_enabled: Option<bool>,
    #[serde(default)]
    pub mail_enabled: Option<bool>,
}

impl UpdateGroup {
    pub fn into_patch(self) -> Result<GroupPatch, ApiError> {
        check_type(&self.odata_type, "microsoft.graph.group")?;
        Ok(GroupPatch {
            display_name: self.display_name,
            description: self.description,
            mail_nickname: self.mail_nickname,
            security_enabled: self.security_enabled,
            mail_enabled: self.mail_enabled,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedDomainDto {
    pub name: String,
    pub is_default: bool,
    pub is_initial: bool,
    pub r#type: String,
    pub capabilities: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationDto {
    pub id: String,
    pub display_name: String,
    pub verified_domains: Vec<VerifiedDomainDto>,
    pub created_date_time: String,
}

impl From<&Tenant> for OrganizationDto {
    fn from(t: &Tenant) -> Self {
        OrganizationDto {
            id: t.id.to_string(),
            display_name: t.display_name.clone(),
            verified_domains: t
                .verified_domains
                .iter()
                .enumerate()
                .map(|(i, d)| VerifiedDomainDto {
                    name: d.to_string(),
                    is_default: i == 0,
                    is_initial: i == 0,
                    r#type: "Managed".into(),
                    capabilities: "Email".into(),
                })
                .collect(),
            created_date_time: super::timestamp(t.created_date_time),
        }
    }
}
