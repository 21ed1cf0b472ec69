//! Who may see and do what (docs/API.md "Users and access"): roles, recording permissions,
//! access groups and partitions, the visibility of a recording, and the one table of which
//! operation needs what.
//!
//! The visibility rule is written here once. A single recording is checked with
//! [`Visibility::can_see`]; searches check the same rule in SQL over the terms
//! [`visibility_terms`] indexes, and the store's conformance suite proves the two agree.

use serde::{Deserialize, Serialize};

use crate::Recording;

/// Index kinds of [`visibility_terms`]: every access group that grants a recording (its
/// groups and all their ancestors), and its partitions (`""` when it has none).
pub const GRANTED_TO_GROUP: &str = "granted-group";
pub const IN_PARTITION: &str = "in-partition";
/// The partition term of a recording without partitions.
pub const NO_PARTITION: &str = "";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Administrator,
    Supervisor,
    Agent,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Administrator, Role::Supervisor, Role::Agent];

    pub fn name(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Supervisor => "Supervisor",
            Role::Agent => "Agent",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }
}

/// Recording permissions a user may hold beside their roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    #[serde(rename = "RECORDING_PERMISSION_APPLY_NON_DELETE")]
    ApplyNonDelete,
    #[serde(rename = "RECORDING_PERMISSION_DELETE")]
    Delete,
}

impl Permission {
    pub const ALL: [Permission; 2] = [Permission::ApplyNonDelete, Permission::Delete];

    pub fn name(self) -> &'static str {
        match self {
            Permission::ApplyNonDelete => "RECORDING_PERMISSION_APPLY_NON_DELETE",
            Permission::Delete => "RECORDING_PERMISSION_DELETE",
        }
    }

    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// What a user asks to do with recordings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Search,
    Read,
    Play,
    ApplyHold,
    RemoveHold,
    Delete,
}

/// Why an operation is refused to a user who may see the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// None of the user's roles allows the operation (403/5).
    Role,
    /// The role allows it but a recording permission is missing (403/3).
    Permission(Permission),
}

/// The one table of who may do what. Every role may search, read and play what it may
/// see; holds and deletions need a Supervisor or Administrator role, and a Supervisor
/// also needs the matching recording permission (an Administrator holds them all).
pub fn check(
    roles: &[Role],
    permissions: &[Permission],
    operation: Operation,
) -> Result<(), Denied> {
    let needs = match operation {
        Operation::Search | Operation::Read | Operation::Play => {
            return if roles.is_empty() {
                Err(Denied::Role)
            } else {
                Ok(())
            };
        }
        Operation::ApplyHold | Operation::RemoveHold => Permission::ApplyNonDelete,
        Operation::Delete => Permission::Delete,
    };
    if roles.contains(&Role::Administrator) {
        Ok(())
    } else if !roles.contains(&Role::Supervisor) {
        Err(Denied::Role)
    } else if permissions.contains(&needs) {
        Ok(())
    } else {
        Err(Denied::Permission(needs))
    }
}

/// An access group or partition as given to a user: a path of non-empty segments from
/// `/`, without a trailing `/` (`/` alone is the root). Answers the normal form.
pub fn parse_path(path: &str) -> Result<String, String> {
    if !path.starts_with('/') {
        return Err(format!("{path:?} must start with /"));
    }
    if path.len() > 1024 {
        return Err("is longer than 1024 characters".into());
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok("/".into());
    }
    if trimmed.split('/').skip(1).any(|segment| segment.is_empty()) {
        return Err(format!("{path:?} has an empty segment"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(format!("{path:?} has a control character"));
    }
    Ok(trimmed.to_owned())
}

/// An access group or partition as a record carries it, read leniently: a missing leading
/// `/` is added, trailing and repeated ones are dropped (`Sales//East/` is `/Sales/East`).
pub fn record_path(value: &str) -> String {
    let segments: Vec<&str> = value.split('/').filter(|s| !s.is_empty()).collect();
    format!("/{}", segments.join("/"))
}

/// The access groups of a recording: those of its media files; none counts as `/`.
pub fn recording_groups(recording: &Recording) -> Vec<String> {
    let mut groups = strings(recording, "accessgroups");
    if groups.is_empty() {
        groups.push("/".into());
    }
    groups
}

/// The partitions of a recording: those of its media files.
pub fn recording_partitions(recording: &Recording) -> Vec<String> {
    strings(recording, "partitions")
}

fn strings(recording: &Recording, field: &str) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for media_file in &recording.media_files {
        for value in media_file.json[field].as_array().into_iter().flatten() {
            if let Some(value) = value.as_str() {
                let path = record_path(value);
                if !values.contains(&path) {
                    values.push(path);
                }
            }
        }
    }
    values
}

/// `path` and every group above it, up to `/`.
fn ancestors(path: &str) -> impl Iterator<Item = String> + '_ {
    let mut next = Some(path.to_owned());
    std::iter::from_fn(move || {
        let current = next.take()?;
        next = match current.rfind('/') {
            Some(0) if current.len() > 1 => Some("/".into()),
            Some(0) | None => None,
            Some(at) => Some(current[..at].to_owned()),
        };
        Some(current)
    })
}

/// The index terms searches check visibility with: a [`GRANTED_TO_GROUP`] term for every
/// group that grants the recording (its groups and their ancestors, so `/` always), and
/// an [`IN_PARTITION`] term per partition ([`NO_PARTITION`] when it has none).
pub fn visibility_terms(recording: &Recording) -> Vec<(&'static str, String)> {
    let mut terms: Vec<(&'static str, String)> = Vec::new();
    for group in recording_groups(recording) {
        for granting in ancestors(&group) {
            if !terms.iter().any(|(_, v)| *v == granting) {
                terms.push((GRANTED_TO_GROUP, granting));
            }
        }
    }
    let partitions = recording_partitions(recording);
    if partitions.is_empty() {
        terms.push((IN_PARTITION, NO_PARTITION.into()));
    }
    terms.extend(partitions.into_iter().map(|p| (IN_PARTITION, p)));
    terms
}

/// What a signed-in user may see. The rule: a user sees a recording they are on (their
/// name in a media file's `parameters.username` or an event's contact), and any recording
/// one of whose access groups lies in the subtree of one of the user's groups (a
/// recording without groups counts as `/`) when, if it has partitions, the user holds at
/// least one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibility {
    /// Lowercased, as the index keeps it.
    pub user: String,
    /// Normal forms (see [`parse_path`]).
    pub groups: Vec<String>,
    pub partitions: Vec<String>,
}

impl Visibility {
    pub fn new(user: &str, groups: &[String], partitions: &[String]) -> Visibility {
        Visibility {
            user: user.to_lowercase(),
            groups: groups.iter().map(|g| record_path(g)).collect(),
            partitions: partitions.iter().map(|p| record_path(p)).collect(),
        }
    }

    pub fn can_see(&self, recording: &Recording) -> bool {
        if recording.user_names().contains(&self.user) {
            return true;
        }
        let granted = recording_groups(recording)
            .iter()
            .any(|group| ancestors(group).any(|granting| self.groups.contains(&granting)));
        let partitions = recording_partitions(recording);
        granted && (partitions.is_empty() || partitions.iter().any(|p| self.partitions.contains(p)))
    }

    /// The partition terms a visible recording may carry: none, or one of the user's.
    pub fn partition_terms(&self) -> Vec<String> {
        let mut terms = vec![NO_PARTITION.to_owned()];
        terms.extend(self.partitions.iter().cloned());
        terms
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn recording(groups: &[&str], partitions: &[&str], agent: &str) -> Recording {
        let body = json!({
            "id": "r", "callerPhoneNumber": "+1", "dialedPhoneNumber": "+2", "region": "r",
            "mediaFiles": [{
                "callUUID": "c", "mediaId": "m",
                "startTime": "2015-06-15T23:00:00Z", "stopTime": "2015-06-15T23:01:00Z",
                "mediaDescriptor": {"storage": "webDAV", "path": "a.mp3"},
                "parameters": {"username": agent},
                "accessgroups": groups, "partitions": partitions
            }]
        });
        Recording::from_json(body.as_object().unwrap().clone()).unwrap()
    }

    fn user(groups: &[&str], partitions: &[&str]) -> Visibility {
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Visibility::new("Sup", &strings(groups), &strings(partitions))
    }

    #[test]
    fn groups_grant_their_subtree() {
        let east = recording(&["/Sales/East"], &[], "bob");
        assert!(user(&["/Sales"], &[]).can_see(&east));
        assert!(user(&["/Sales/East"], &[]).can_see(&east));
        assert!(user(&["/"], &[]).can_see(&east));
        assert!(
            !user(&["/Sales/East/Team1"], &[]).can_see(&east),
            "a sub-group"
        );
        assert!(
            !user(&["/Sales/Ea"], &[]).can_see(&east),
            "a prefix is not a parent"
        );
        assert!(!user(&["/Support"], &[]).can_see(&east));
        assert!(!user(&[], &[]).can_see(&east));
        let ungrouped = recording(&[], &[], "bob");
        assert!(user(&["/"], &[]).can_see(&ungrouped));
        assert!(
            !user(&["/Sales"], &[]).can_see(&ungrouped),
            "no groups counts as /"
        );
    }

    #[test]
    fn partitions_narrow_what_groups_grant() {
        let emea = recording(&["/Sales"], &["/emea"], "bob");
        assert!(!user(&["/"], &[]).can_see(&emea));
        assert!(user(&["/"], &["/emea"]).can_see(&emea));
        assert!(!user(&["/"], &["/apac"]).can_see(&emea));
        assert!(!user(&["/"], &["/emea/uk"]).can_see(&emea));
        let open = recording(&["/Sales"], &[], "bob");
        assert!(user(&["/Sales"], &["/apac"]).can_see(&open));
    }

    #[test]
    fn users_see_the_recordings_they_are_on() {
        let theirs = recording(&["/Support"], &["/emea"], "Sup");
        assert!(
            user(&[], &[]).can_see(&theirs),
            "names compare without case"
        );
    }

    #[test]
    fn the_terms_hold_every_granting_group() {
        let terms = visibility_terms(&recording(&["Sales//East/"], &[], "bob"));
        assert_eq!(
            terms,
            [
                (GRANTED_TO_GROUP, "/Sales/East".to_owned()),
                (GRANTED_TO_GROUP, "/Sales".to_owned()),
                (GRANTED_TO_GROUP, "/".to_owned()),
                (IN_PARTITION, NO_PARTITION.to_owned()),
            ]
        );
        let terms = visibility_terms(&recording(&[], &["/emea", "/apac"], "bob"));
        assert_eq!(
            terms,
            [
                (GRANTED_TO_GROUP, "/".to_owned()),
                (IN_PARTITION, "/emea".to_owned()),
                (IN_PARTITION, "/apac".to_owned()),
            ]
        );
    }

    #[test]
    fn paths_given_to_users_are_checked() {
        assert_eq!(parse_path("/Sales/East/").unwrap(), "/Sales/East");
        assert_eq!(parse_path("/").unwrap(), "/");
        assert!(parse_path("Sales").is_err());
        assert!(parse_path("/Sales//East").is_err());
    }

    #[test]
    fn the_table_of_operations() {
        use Operation::*;
        let agent = [Role::Agent];
        let supervisor = [Role::Supervisor];
        let admin = [Role::Administrator];
        for op in [Search, Read, Play] {
            assert_eq!(check(&agent, &[], op), Ok(()));
            assert_eq!(check(&[], &[], op), Err(Denied::Role));
        }
        for op in [ApplyHold, RemoveHold, Delete] {
            assert_eq!(check(&agent, &Permission::ALL, op), Err(Denied::Role));
            assert_eq!(check(&admin, &[], op), Ok(()));
            assert!(matches!(
                check(&supervisor, &[], op),
                Err(Denied::Permission(_))
            ));
        }
        assert_eq!(
            check(&supervisor, &[Permission::ApplyNonDelete], ApplyHold),
            Ok(())
        );
        assert_eq!(
            check(&supervisor, &[Permission::ApplyNonDelete], Delete),
            Err(Denied::Permission(Permission::Delete))
        );
        assert_eq!(check(&supervisor, &[Permission::Delete], Delete), Ok(()));
    }
}
