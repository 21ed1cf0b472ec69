//! What a directory user's groups give them (docs/API.md "Directory users (LDAP)"): each
//! rule of `gird.ldap.rules` names a group, by its DN or by the value of its first RDN
//! (its `cn`), and the roles, access groups, partitions and permissions its members get. A
//! user holds the union of what the rules of all their groups give; without a role they
//! may not sign in.

use gird_model::access::{parse_path, Permission, Role};
use serde::{Deserialize, Serialize};

/// A rule as written under `gird.ldap.rules` in `application.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleConfig {
    /// A DN (`cn=supervisors,ou=groups,dc=example,dc=org`) or a bare name (`supervisors`).
    pub group: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub access_groups: Vec<String>,
    #[serde(default)]
    pub partitions: Vec<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// How a rule names its group.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GroupName {
    /// A DN in [`normal_dn`] form.
    Dn(String),
    /// The value of a group's first RDN, in lower case.
    Name(String),
}

/// A checked rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    group: GroupName,
    grants: Profile,
}

/// What a user holds: roles, access groups and partitions (normal forms), permissions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub roles: Vec<Role>,
    pub access_groups: Vec<String>,
    pub partitions: Vec<String>,
    pub permissions: Vec<Permission>,
}

impl Profile {
    /// This profile with what `other` adds, each item once, in the order first given.
    fn add(&mut self, other: &Profile) {
        fn extend<T: Clone + PartialEq>(into: &mut Vec<T>, items: &[T]) {
            for item in items {
                if !into.contains(item) {
                    into.push(item.clone());
                }
            }
        }
        extend(&mut self.roles, &other.roles);
        extend(&mut self.access_groups, &other.access_groups);
        extend(&mut self.partitions, &other.partitions);
        extend(&mut self.permissions, &other.permissions);
    }
}

impl Rule {
    /// Checks the rule at `index` of `gird.ldap.rules`; the error names it and the field.
    pub fn parse(index: usize, config: &RuleConfig) -> Result<Rule, String> {
        let at = |field: &str, why: String| format!("ldap.rules[{index}].{field}: {why}");
        let group = config.group.trim();
        if group.is_empty() {
            return Err(at("group", "must name a group (a DN or a name)".into()));
        }
        let group = if group.contains('=') {
            let dn =
                normal_dn(group).ok_or_else(|| at("group", format!("{group:?} is not a DN")))?;
            GroupName::Dn(dn)
        } else {
            GroupName::Name(group.to_lowercase())
        };
        let mut grants = Profile::default();
        for name in &config.roles {
            let role = Role::ALL
                .into_iter()
                .find(|role| role.name().eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| {
                    at(
                        "roles",
                        format!("{name:?} is not Administrator, Supervisor or Agent"),
                    )
                })?;
            grants.add(&Profile {
                roles: vec![role],
                ..Profile::default()
            });
        }
        for (field, paths, into) in [
            (
                "accessGroups",
                &config.access_groups,
                &mut grants.access_groups,
            ),
            ("partitions", &config.partitions, &mut grants.partitions),
        ] {
            for path in paths {
                let path = parse_path(path).map_err(|why| at(field, why))?;
                if !into.contains(&path) {
                    into.push(path);
                }
            }
        }
        for name in &config.permissions {
            let permission = Permission::ALL
                .into_iter()
                .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| {
                    at(
                        "permissions",
                        format!(
                            "{name:?} is not RECORDING_PERMISSION_APPLY_NON_DELETE or RECORDING_PERMISSION_DELETE"
                        ),
                    )
                })?;
            if !grants.permissions.contains(&permission) {
                grants.permissions.push(permission);
            }
        }
        if grants == Profile::default() {
            return Err(at(
                "group",
                "the rule gives nothing (no roles, accessGroups, partitions or permissions)".into(),
            ));
        }
        Ok(Rule { group, grants })
    }

    fn matches(&self, group_dn: &NormalDn) -> bool {
        match &self.group {
            GroupName::Dn(dn) => *dn == group_dn.dn,
            GroupName::Name(name) => *name == group_dn.first_value,
        }
    }
}

/// What the rules give a member of the groups `group_dns` (as the directory spells them;
/// one that is not a DN matches nothing).
pub fn profile(rules: &[Rule], group_dns: &[String]) -> Profile {
    let groups: Vec<NormalDn> = group_dns.iter().filter_map(|dn| NormalDn::of(dn)).collect();
    let mut profile = Profile::default();
    for rule in rules {
        if groups.iter().any(|group| rule.matches(group)) {
            profile.add(&rule.grants);
        }
    }
    profile
}

/// A group's DN, normalized, and its first RDN's value (unescaped, in lower case).
struct NormalDn {
    dn: String,
    first_value: String,
}

impl NormalDn {
    fn of(dn: &str) -> Option<NormalDn> {
        let normal = normal_dn(dn)?;
        let first = split_unescaped(&normal, ',').next()?;
        let (_, value) = first.split_once('=')?;
        Some(NormalDn {
            first_value: unescape(value),
            dn: normal,
        })
    }
}

/// A DN in a form two spellings of it share: in lower case, without spaces around `,`,
/// `+` and `=`. Every RDN must be `attribute=value`; `None` otherwise.
pub fn normal_dn(dn: &str) -> Option<String> {
    let mut rdns = Vec::new();
    for rdn in split_unescaped(dn, ',') {
        let mut parts = Vec::new();
        for pair in split_unescaped(rdn, '+') {
            let (attribute, value) = pair.split_once('=')?;
            let (attribute, value) = (attribute.trim(), value.trim());
            if attribute.is_empty() || value.is_empty() {
                return None;
            }
            parts.push(format!(
                "{}={}",
                attribute.to_lowercase(),
                value.to_lowercase()
            ));
        }
        rdns.push(parts.join("+"));
    }
    (!rdns.is_empty()).then(|| rdns.join(","))
}

/// `text` split at each `separator` not escaped with a backslash.
fn split_unescaped(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut escaped = false;
    let mut start = 0;
    let mut pieces = Vec::new();
    for (at, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            pieces.push(&text[start..at]);
            start = at + c.len_utf8();
        }
    }
    pieces.push(&text[start..]);
    pieces.into_iter()
}

/// An RDN value without its escapes: `\,` is `,`, `\2C` is the byte 0x2C.
fn unescape(value: &str) -> String {
    let mut bytes = Vec::with_capacity(value.len());
    let raw = value.as_bytes();
    let mut at = 0;
    while at < raw.len() {
        if raw[at] == b'\\' && at + 1 < raw.len() {
            let hex = raw
                .get(at + 1..at + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok());
            match hex {
                Some(byte) => {
                    bytes.push(byte);
                    at += 3;
                }
                None => {
                    bytes.push(raw[at + 1]);
                    at += 2;
                }
            }
        } else {
            bytes.push(raw[at]);
            at += 1;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(group: &str, roles: &[&str], groups: &[&str], partitions: &[&str]) -> RuleConfig {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        RuleConfig {
            group: group.into(),
            roles: strings(roles),
            access_groups: strings(groups),
            partitions: strings(partitions),
            permissions: vec![],
        }
    }

    fn parsed(configs: &[RuleConfig]) -> Vec<Rule> {
        configs
            .iter()
            .enumerate()
            .map(|(index, config)| Rule::parse(index, config).unwrap())
            .collect()
    }

    const SUPERVISORS: &str = "cn=supervisors,ou=groups,dc=example,dc=org";

    #[test]
    fn a_rule_matches_its_group_by_dn_or_by_name_without_case_or_spaces() {
        let rules = parsed(&[
            rule(SUPERVISORS, &["supervisor"], &["/Sales"], &["/emea"]),
            rule("Agents", &["Agent"], &[], &[]),
        ]);
        let member = profile(
            &rules,
            &["CN=Supervisors, OU=Groups, DC=example, DC=org".into()],
        );
        assert_eq!(member.roles, vec![Role::Supervisor]);
        assert_eq!(member.access_groups, vec!["/Sales".to_owned()]);
        assert_eq!(member.partitions, vec!["/emea".to_owned()]);
        let agent = profile(&rules, &["cn=agents,ou=elsewhere,dc=example,dc=org".into()]);
        assert_eq!(agent.roles, vec![Role::Agent], "a name matches any DN");
        let other = profile(
            &rules,
            &["cn=supervisors,ou=other,dc=example,dc=org".into()],
        );
        assert_eq!(other, Profile::default(), "a DN matches only itself");
        assert_eq!(profile(&rules, &["not a dn".into()]), Profile::default());
        assert_eq!(profile(&rules, &[]), Profile::default());
    }

    #[test]
    fn a_member_of_several_groups_holds_the_union_once() {
        let mut delete = rule("auditors", &[], &["/Sales/East", "/Support"], &[]);
        delete.permissions = vec!["recording_permission_delete".into()];
        let rules = parsed(&[
            rule("supervisors", &["Supervisor"], &["/Sales/"], &["/emea"]),
            delete,
            rule("admins", &["Administrator", "Supervisor"], &["/Sales"], &[]),
        ]);
        let groups = [
            "cn=supervisors,dc=x".to_owned(),
            "cn=auditors,dc=x".to_owned(),
            "cn=admins,dc=x".to_owned(),
        ];
        let all = profile(&rules, &groups);
        assert_eq!(all.roles, vec![Role::Supervisor, Role::Administrator]);
        assert_eq!(all.access_groups, vec!["/Sales", "/Sales/East", "/Support"]);
        assert_eq!(all.partitions, vec!["/emea"]);
        assert_eq!(all.permissions, vec![Permission::Delete]);
        let no_role = profile(&rules, &groups[1..2]);
        assert!(no_role.roles.is_empty(), "a rule may give no role");
    }

    #[test]
    fn escaped_commas_stay_inside_a_value() {
        let rules = parsed(&[rule("Sales, East", &["Agent"], &[], &[])]);
        let dn = r"cn=Sales\, East,ou=groups,dc=x".to_owned();
        assert_eq!(profile(&rules, &[dn]).roles, vec![Role::Agent]);
        let hex = r"cn=Sales\2C East,ou=groups,dc=x".to_owned();
        assert_eq!(profile(&rules, &[hex]).roles, vec![Role::Agent]);
        assert_eq!(
            normal_dn(r"CN=a\,b , DC=X").as_deref(),
            Some(r"cn=a\,b,dc=x")
        );
    }

    #[test]
    fn a_wrong_rule_is_refused_naming_its_field() {
        let cases = [
            (rule("", &["Agent"], &[], &[]), "ldap.rules[0].group"),
            (rule("cn=,dc=x", &["Agent"], &[], &[]), "is not a DN"),
            (rule("cn=a,dc", &["Agent"], &[], &[]), "is not a DN"),
            (rule("a", &["Boss"], &[], &[]), "ldap.rules[0].roles"),
            (rule("a", &["Agent"], &["Sales"], &[]), "accessGroups"),
            (rule("a", &["Agent"], &[], &["/a//b"]), "partitions"),
            (rule("a", &[], &[], &[]), "gives nothing"),
        ];
        for (config, expected) in cases {
            let error = Rule::parse(0, &config).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
        let mut permission = rule("a", &["Agent"], &[], &[]);
        permission.permissions = vec!["DELETE_ALL".into()];
        let error = Rule::parse(3, &permission).unwrap_err();
        assert!(error.starts_with("ldap.rules[3].permissions"), "{error}");
    }

    #[test]
    fn a_profile_survives_a_round_trip_through_json() {
        let rules = parsed(&[rule("a", &["Agent"], &["/x"], &["/p"])]);
        let held = profile(&rules, &["cn=a,dc=x".into()]);
        let text = serde_json::to_string(&held).unwrap();
        assert_eq!(serde_json::from_str::<Profile>(&text).unwrap(), held);
    }
}
