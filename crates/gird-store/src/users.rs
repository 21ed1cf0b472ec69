//! Users of a contact center (beside the ops user, who is configured, not stored): their
//! password hash, roles, access groups, partitions and recording permissions. A name is
//! unique across the instance, compared without case; the server checks and normalizes
//! what it stores. The SQL is the same for both backends.

use async_trait::async_trait;
use gird_model::access::{Permission, Role};

use crate::{Removal, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// As given when created.
    pub name: String,
    pub contact_center: String,
    /// An argon2 hash (PHC string).
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub access_groups: Vec<String>,
    pub partitions: Vec<String>,
    pub permissions: Vec<Permission>,
    /// Changes with the password: a session remembers the stamp it was opened with.
    pub stamp: String,
}

/// What creating or replacing a user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserWrite {
    Created,
    Replaced,
    /// Create: a user of that name exists (in this or another contact center).
    NameTaken,
    /// Replace: no such user in this contact center.
    NotFound,
    ContactCenterMissing,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn create_user(&self, user: User) -> Result<UserWrite, StoreError>;
    /// Replaces the user of that name in `user.contact_center`.
    async fn replace_user(&self, user: User) -> Result<UserWrite, StoreError>;
    /// The user of that name, in any contact center (names compare without case).
    async fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// A contact center's users, by name.
    async fn users(&self, contact_center: &str) -> Result<Vec<User>, StoreError>;
    /// Deletes the user and their web UI sessions.
    async fn delete_user(&self, contact_center: &str, name: &str) -> Result<Removal, StoreError>;
}

pub(crate) const MIGRATION: &str = "
    CREATE TABLE users (
        -- The name in lower case: names are unique across the instance, without case.
        name_key TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        contact_center_id TEXT NOT NULL REFERENCES contact_centers (id),
        password_hash TEXT NOT NULL,
        -- JSON arrays of strings.
        roles TEXT NOT NULL,
        access_groups TEXT NOT NULL,
        partitions TEXT NOT NULL,
        permissions TEXT NOT NULL,
        stamp TEXT NOT NULL
    );
    CREATE INDEX users_by_contact_center ON users (contact_center_id, name_key);
";

/// `$1` to `$9` are [`User::columns`]; nothing when the name exists (0 rows).
pub(crate) const CREATE: &str = "
    INSERT INTO users (name_key, user_name, contact_center_id, password_hash, roles,
        access_groups, partitions, permissions, stamp)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
    ON CONFLICT (name_key) DO NOTHING";
/// The same parameters; only a user of that contact center (0 rows otherwise).
pub(crate) const REPLACE: &str = "
    UPDATE users SET user_name = $2, password_hash = $4, roles = $5, access_groups = $6,
        partitions = $7, permissions = $8, stamp = $9
    WHERE name_key = $1 AND contact_center_id = $3";
const COLUMNS: &str = "user_name, contact_center_id, password_hash, roles, access_groups,
    partitions, permissions, stamp";
pub(crate) static SELECT: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} FROM users WHERE name_key = $1"));
pub(crate) static OF_CONTACT_CENTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("SELECT {COLUMNS} FROM users WHERE contact_center_id = $1 ORDER BY name_key")
});
pub(crate) const DELETE: &str = "DELETE FROM users WHERE contact_center_id = $1 AND name_key = $2";

/// The key a name is stored and looked up under.
pub(crate) fn key(name: &str) -> String {
    name.to_lowercase()
}

/// A row's text columns, in [`CREATE`]'s order.
pub(crate) fn columns(user: &User) -> [String; 9] {
    let list = |items: Vec<&str>| serde_json::to_string(&items).expect("strings serialize");
    [
        key(&user.name),
        user.name.clone(),
        user.contact_center.clone(),
        user.password_hash.clone(),
        list(user.roles.iter().map(|r| r.name()).collect()),
        list(user.access_groups.iter().map(String::as_str).collect()),
        list(user.partitions.iter().map(String::as_str).collect()),
        list(user.permissions.iter().map(|p| p.name()).collect()),
        user.stamp.clone(),
    ]
}

/// A user from the columns of [`SELECT`], in order.
pub(crate) fn from_columns(columns: [String; 8]) -> Result<User, StoreError> {
    let [name, contact_center, password_hash, roles, groups, partitions, permissions, stamp] =
        columns;
    let corrupt = |what: &str| StoreError::Corrupt(format!("users.{what} of {name:?}"));
    let list = |text: &str, what: &str| -> Result<Vec<String>, StoreError> {
        serde_json::from_str(text).map_err(|_| corrupt(what))
    };
    let roles = list(&roles, "roles")?
        .iter()
        .map(|r| Role::parse(r).ok_or_else(|| corrupt("roles")))
        .collect::<Result<_, _>>()?;
    let permissions = list(&permissions, "permissions")?
        .iter()
        .map(|p| Permission::parse(p).ok_or_else(|| corrupt("permissions")))
        .collect::<Result<_, _>>()?;
    Ok(User {
        access_groups: list(&groups, "access_groups")?,
        partitions: list(&partitions, "partitions")?,
        name,
        contact_center,
        password_hash,
        roles,
        permissions,
        stamp,
    })
}

/// What a create (`create`) or replace that wrote `rows` rows did, its contact center
/// existing.
pub(crate) fn outcome(create: bool, rows: u64) -> UserWrite {
    match (create, rows == 1) {
        (true, true) => UserWrite::Created,
        (true, false) => UserWrite::NameTaken,
        (false, true) => UserWrite::Replaced,
        (false, false) => UserWrite::NotFound,
    }
}
