//! The rules a policy keeps on its own: scopes and their targets, approval stages, durations,
//! questions. References to other objects are checked by the service against the store.

use super::{
    AllowedTargetScope, AssignmentPolicy, Expiration, IsoDuration, LocalizedText,
    MAX_ASSIGNMENT_DAYS, MAX_CHOICES, MAX_DECISION_DAYS, MAX_QUESTIONS, MAX_STAGES,
    MAX_SUBJECT_SETS, Question, QuestionKind, SubjectSet,
};
use crate::{DomainError, DomainResult, text};

fn check_sets(target: &str, sets: &[SubjectSet]) -> DomainResult<()> {
    if sets.len() > MAX_SUBJECT_SETS {
        return Err(DomainError::invalid(
            target,
            format!("at most {MAX_SUBJECT_SETS} entries are allowed in {target}"),
        ));
    }
    for s in sets {
        match s {
            SubjectSet::RequestorManager { manager_level } if *manager_level != 1 => {
                return Err(DomainError::invalid(
                    target,
                    "requestorManager supports managerLevel 1 (the direct manager)",
                ));
            }
            SubjectSet::TargetManager { manager_level } if !(1..=4).contains(manager_level) => {
                return Err(DomainError::invalid(
                    target,
                    "targetManager managerLevel must be 1 to 4",
                ));
            }
            SubjectSet::AttributeRuleMembers {
                membership_rule, ..
            } if membership_rule.trim().is_empty() || membership_rule.len() > 2048 => {
                return Err(DomainError::invalid(
                    target,
                    "attributeRuleMembers needs a membershipRule of at most 2048 characters",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_approvers(target: &str, sets: &[SubjectSet]) -> DomainResult<()> {
    check_sets(target, sets)?;
    if let Some(bad) = sets.iter().find(|s| {
        matches!(
            s,
            SubjectSet::ConnectedOrganizationMembers { .. }
                | SubjectSet::AttributeRuleMembers { .. }
        )
    }) {
        return Err(DomainError::invalid(
            target,
            format!(
                "{} cannot approve; approvers are singleUser, groupMembers, requestorManager, internalSponsors, externalSponsors or targetUserSponsors",
                bad.type_name()
            ),
        ));
    }
    Ok(())
}

fn check_localizations(target: &str, l: &[LocalizedText]) -> DomainResult<()> {
    if l.len() > 50 {
        return Err(DomainError::invalid(
            target,
            "at most 50 localizations are allowed",
        ));
    }
    for t in l {
        let code = t.language_code.trim();
        if code.is_empty()
            || code.len() > 16
            || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(DomainError::invalid(
                target,
                format!("'{code}' is not a language code like en-US"),
            ));
        }
        text::display_name(target, &t.text)?;
    }
    Ok(())
}

/// Checks a question; its regex pattern, when given, must compile.
fn check_question(q: &Question) -> DomainResult<()> {
    text::display_name("questions.text", &q.text)?;
    check_localizations("questions.localizations", &q.localizations)?;
    match &q.kind {
        QuestionKind::Text { regex_pattern, .. } => {
            if let Some(p) = regex_pattern {
                if p.len() > 512 {
                    return Err(DomainError::invalid(
                        "questions.regexPattern",
                        "regexPattern is longer than 512 characters",
                    ));
                }
                regex_lite::Regex::new(p).map_err(|e| {
                    DomainError::invalid(
                        "questions.regexPattern",
                        format!("regexPattern does not compile: {e}"),
                    )
                })?;
            }
        }
        QuestionKind::MultipleChoice { choices, .. } => {
            if choices.is_empty() || choices.len() > MAX_CHOICES {
                return Err(DomainError::invalid(
                    "questions.choices",
                    format!("a multiple-choice question needs 1 to {MAX_CHOICES} choices"),
                ));
            }
            for (i, c) in choices.iter().enumerate() {
                if c.actual_value.trim().is_empty() || c.actual_value.len() > 256 {
                    return Err(DomainError::invalid(
                        "questions.choices.actualValue",
                        "every choice needs an actualValue of 1 to 256 characters",
                    ));
                }
                if choices[..i]
                    .iter()
                    .any(|o| o.actual_value == c.actual_value)
                {
                    return Err(DomainError::invalid(
                        "questions.choices.actualValue",
                        format!("choice '{}' is listed twice", c.actual_value),
                    ));
                }
                text::display_name("questions.choices.text", &c.text)?;
                check_localizations("questions.choices.localizations", &c.localizations)?;
            }
        }
    }
    Ok(())
}

/// Checks a policy and normalises its text.
pub fn validate(mut p: AssignmentPolicy) -> DomainResult<AssignmentPolicy> {
    p.display_name = text::display_name("displayName", &p.display_name)?;
    p.description = text::description("description", &p.description)?;
    let scope = p.allowed_target_scope;
    check_sets("specificAllowedTargets", &p.specific_allowed_targets)?;
    if scope.is_specific() && p.specific_allowed_targets.is_empty() {
        return Err(DomainError::invalid(
            "specificAllowedTargets",
            format!(
                "{} needs at least one entry in specificAllowedTargets",
                scope.as_str()
            ),
        ));
    }
    if !scope.is_specific() && !p.specific_allowed_targets.is_empty() {
        return Err(DomainError::invalid(
            "specificAllowedTargets",
            format!("{} takes no specificAllowedTargets", scope.as_str()),
        ));
    }
    for t in &p.specific_allowed_targets {
        let ok = match scope {
            AllowedTargetScope::SpecificConnectedOrganizationUsers => {
                matches!(t, SubjectSet::ConnectedOrganizationMembers { .. })
            }
            _ => matches!(
                t,
                SubjectSet::SingleUser { .. }
                    | SubjectSet::GroupMembers { .. }
                    | SubjectSet::AttributeRuleMembers { .. }
            ),
        };
        if !ok {
            return Err(DomainError::invalid(
                "specificAllowedTargets",
                format!("{} is not a target of {}", t.type_name(), scope.as_str()),
            ));
        }
        if matches!(t, SubjectSet::AttributeRuleMembers { .. })
            && p.automatic_request_settings.is_none()
        {
            return Err(DomainError::invalid(
                "specificAllowedTargets",
                "attributeRuleMembers targets are for automatic assignment policies (automaticRequestSettings)",
            ));
        }
    }
    match &p.expiration {
        Expiration::AfterDuration(d) => {
            if d.seconds() <= 0 {
                return Err(DomainError::invalid(
                    "expiration.duration",
                    "the duration must be positive",
                ));
            }
            d.check_max("expiration.duration", MAX_ASSIGNMENT_DAYS)?;
        }
        Expiration::AfterDateTime(t) if *t <= p.modified_date_time => {
            return Err(DomainError::invalid(
                "expiration.endDateTime",
                "endDateTime must be in the future",
            ));
        }
        _ => {}
    }
    let rs = &p.requestor_settings;
    check_sets(
        "requestorSettings.onBehalfRequestors",
        &rs.on_behalf_requestors,
    )?;
    let on_behalf = rs.enable_on_behalf_requestors_to_add_access
        || rs.enable_on_behalf_requestors_to_update_access
        || rs.enable_on_behalf_requestors_to_remove_access;
    if on_behalf && rs.on_behalf_requestors.is_empty() {
        return Err(DomainError::invalid(
            "requestorSettings.onBehalfRequestors",
            "on-behalf requests need at least one onBehalfRequestors entry",
        ));
    }
    if scope == AllowedTargetScope::NotSpecified
        && (rs.enable_targets_to_self_add_access || rs.enable_targets_to_self_update_access)
    {
        return Err(DomainError::invalid(
            "requestorSettings",
            "a policy with allowedTargetScope notSpecified accepts no self requests",
        ));
    }
    let ap = &p.approval_settings;
    if ap.stages.len() > MAX_STAGES {
        return Err(DomainError::invalid(
            "requestApprovalSettings.stages",
            format!("at most {MAX_STAGES} approval stages are allowed"),
        ));
    }
    let needs_stages = ap.is_approval_required_for_add || ap.is_approval_required_for_update;
    if needs_stages && ap.stages.is_empty() {
        return Err(DomainError::invalid(
            "requestApprovalSettings.stages",
            "approval is required but no approval stage is given",
        ));
    }
    if !needs_stages && !ap.stages.is_empty() {
        return Err(DomainError::invalid(
            "requestApprovalSettings.isApprovalRequiredForAdd",
            "approval stages are given but approval is not required",
        ));
    }
    for (i, st) in ap.stages.iter().enumerate() {
        let t = |f: &str| format!("requestApprovalSettings.stages[{i}].{f}");
        check_approvers(&t("primaryApprovers"), &st.primary_approvers)?;
        check_approvers(
            &t("fallbackPrimaryApprovers"),
            &st.fallback_primary_approvers,
        )?;
        check_approvers(&t("escalationApprovers"), &st.escalation_approvers)?;
        check_approvers(
            &t("fallbackEscalationApprovers"),
            &st.fallback_escalation_approvers,
        )?;
        if st.primary_approvers.is_empty() {
            return Err(DomainError::invalid(
                t("primaryApprovers"),
                "every approval stage needs at least one primary approver",
            ));
        }
        // Sponsors of the requestor's organization exist only for users of a connected
        // organization; "anyone" policies also admit users of no known organization, and
        // directory policies none. There the stage must name someone to fall back on.
        let sponsors_named = st.primary_approvers.iter().any(|s| {
            matches!(
                s,
                SubjectSet::InternalSponsors | SubjectSet::ExternalSponsors
            )
        });
        let every_requestor_has_sponsors = matches!(
            scope,
            AllowedTargetScope::SpecificConnectedOrganizationUsers
                | AllowedTargetScope::AllConfiguredConnectedOrganizationUsers
        );
        if sponsors_named
            && !every_requestor_has_sponsors
            && st.fallback_primary_approvers.is_empty()
        {
            return Err(DomainError::invalid(
                t("fallbackPrimaryApprovers"),
                "connected-organization sponsors approve only requests from connected organizations; add fallbackPrimaryApprovers for the others",
            ));
        }
        let deny = match &st.duration_before_automatic_denial {
            Some(d) => {
                if d.seconds() < 3600 {
                    return Err(DomainError::invalid(
                        t("durationBeforeAutomaticDenial"),
                        "durationBeforeAutomaticDenial must be at least one hour",
                    ));
                }
                d.check_max(&t("durationBeforeAutomaticDenial"), MAX_DECISION_DAYS)?;
                d.seconds()
            }
            None => MAX_DECISION_DAYS * 86_400,
        };
        if st.is_escalation_enabled {
            if st.escalation_approvers.is_empty() {
                return Err(DomainError::invalid(
                    t("escalationApprovers"),
                    "escalation is enabled but no escalation approver is given",
                ));
            }
            let esc = st
                .duration_before_escalation
                .as_ref()
                .map_or(0, IsoDuration::seconds);
            if esc <= 0 || esc >= deny {
                return Err(DomainError::invalid(
                    t("durationBeforeEscalation"),
                    "durationBeforeEscalation must be positive and shorter than durationBeforeAutomaticDenial",
                ));
            }
        }
        if !["default", "notVisible", "visible"]
            .contains(&st.approver_information_visibility.as_str())
        {
            return Err(DomainError::invalid(
                t("approverInformationVisibility"),
                "approverInformationVisibility is default, notVisible or visible",
            ));
        }
    }
    if p.questions.len() > MAX_QUESTIONS {
        return Err(DomainError::invalid(
            "questions",
            format!("at most {MAX_QUESTIONS} questions are allowed"),
        ));
    }
    for (i, q) in p.questions.iter().enumerate() {
        check_question(q)?;
        if p.questions[..i].iter().any(|o| o.id == q.id) {
            return Err(DomainError::invalid(
                "questions.id",
                format!("question id {} is listed twice", q.id),
            ));
        }
    }
    p.questions.sort_by_key(|q| q.sequence);
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::*;
    use crate::Timestamp;
    use uuid::Uuid;

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    pub(crate) fn policy(scope: AllowedTargetScope) -> AssignmentPolicy {
        AssignmentPolicy {
            id: Uuid::now_v7(),
            access_package_id: Uuid::now_v7(),
            catalog_id: Uuid::now_v7(),
            display_name: "Partners".into(),
            description: String::new(),
            allowed_target_scope: scope,
            specific_allowed_targets: Vec::new(),
            expiration: Expiration::AfterDuration(IsoDuration::parse("d", "P365D").unwrap()),
            requestor_settings: RequestorSettings {
                enable_targets_to_self_add_access: scope != AllowedTargetScope::NotSpecified,
                ..Default::default()
            },
            approval_settings: ApprovalSettings::default(),
            review_settings: None,
            automatic_request_settings: None,
            is_assignment_notification_disabled: false,
            questions: Vec::new(),
            created_date_time: now(),
            modified_date_time: now(),
            version: 1,
        }
    }

    fn stage(approvers: Vec<SubjectSet>) -> ApprovalStage {
        ApprovalStage {
            duration_before_automatic_denial: Some(IsoDuration::parse("d", "P14D").unwrap()),
            duration_before_escalation: None,
            is_approver_justification_required: false,
            is_escalation_enabled: false,
            primary_approvers: approvers,
            fallback_primary_approvers: Vec::new(),
            escalation_approvers: Vec::new(),
            fallback_escalation_approvers: Vec::new(),
            approver_information_visibility: "default".into(),
        }
    }

    #[test]
    fn durations_parse_and_bound() {
        assert_eq!(
            IsoDuration::parse("d", "P14D").unwrap().seconds(),
            14 * 86_400
        );
        assert!(IsoDuration::parse("d", "-P1D").is_err());
        assert!(IsoDuration::parse("d", "14 days").is_err());
        let mut p = policy(AllowedTargetScope::AllMemberUsers);
        p.expiration = Expiration::AfterDuration(IsoDuration::parse("d", "P3651D").unwrap());
        assert!(validate(p).is_err());
    }

    #[test]
    fn specific_scopes_need_matching_targets() {
        let mut p = policy(AllowedTargetScope::SpecificConnectedOrganizationUsers);
        assert!(validate(p.clone()).is_err());
        p.specific_allowed_targets = vec![SubjectSet::SingleUser {
            user_id: Uuid::nil(),
            description: String::new(),
        }];
        assert!(validate(p.clone()).is_err());
        p.specific_allowed_targets = vec![SubjectSet::ConnectedOrganizationMembers {
            connected_organization_id: Uuid::nil(),
            description: String::new(),
        }];
        let ok = validate(p).unwrap();
        assert_eq!(ok.referenced().connected_organizations, vec![Uuid::nil()]);
        let mut all = policy(AllowedTargetScope::AllExternalUsers);
        all.specific_allowed_targets = vec![SubjectSet::GroupMembers {
            group_id: Uuid::nil(),
            description: String::new(),
        }];
        assert!(validate(all).is_err());
    }

    #[test]
    fn approval_rules() {
        let mut p = policy(AllowedTargetScope::AllConfiguredConnectedOrganizationUsers);
        p.approval_settings.is_approval_required_for_add = true;
        assert!(validate(p.clone()).is_err(), "required without stages");
        p.approval_settings.stages = vec![stage(vec![SubjectSet::InternalSponsors])];
        assert!(validate(p.clone()).is_ok(), "sponsors for external users");
        p.approval_settings.stages = vec![stage(vec![]); 1];
        assert!(validate(p.clone()).is_err(), "no primary approvers");
        p.approval_settings.stages = vec![stage(vec![SubjectSet::InternalSponsors]); 4];
        assert!(validate(p.clone()).is_err(), "four stages");
        // Sponsors for member users need a fallback.
        let mut m = policy(AllowedTargetScope::AllMemberUsers);
        m.approval_settings.is_approval_required_for_add = true;
        m.approval_settings.stages = vec![stage(vec![SubjectSet::ExternalSponsors])];
        assert!(validate(m.clone()).is_err());
        m.approval_settings.stages[0].fallback_primary_approvers = vec![SubjectSet::SingleUser {
            user_id: Uuid::nil(),
            description: String::new(),
        }];
        assert!(validate(m.clone()).is_ok());
        // Escalation must come before automatic denial.
        let st = &mut m.approval_settings.stages[0];
        st.is_escalation_enabled = true;
        st.escalation_approvers = vec![SubjectSet::RequestorManager { manager_level: 1 }];
        st.duration_before_escalation = Some(IsoDuration::parse("d", "P15D").unwrap());
        assert!(validate(m.clone()).is_err());
        m.approval_settings.stages[0].duration_before_escalation =
            Some(IsoDuration::parse("d", "P2D").unwrap());
        assert!(validate(m.clone()).is_ok());
        m.approval_settings.stages[0].duration_before_automatic_denial =
            Some(IsoDuration::parse("d", "P15D").unwrap());
        assert!(validate(m).is_err(), "auto-deny over 14 days");
    }

    #[test]
    fn questions_are_checked_and_ordered() {
        let mut p = policy(AllowedTargetScope::AllMemberUsers);
        let q = |seq: i32, kind: QuestionKind| Question {
            id: Uuid::now_v7(),
            text: "Why?".into(),
            sequence: seq,
            is_required: true,
            is_answer_editable: false,
            localizations: vec![LocalizedText {
                language_code: "fr-FR".into(),
                text: "Pourquoi ?".into(),
            }],
            kind,
        };
        p.questions = vec![
            q(
                2,
                QuestionKind::MultipleChoice {
                    is_multiple_selection_allowed: false,
                    choices: vec![AnswerChoice {
                        actual_value: "eu".into(),
                        text: "Europe".into(),
                        localizations: vec![],
                    }],
                },
            ),
            q(
                1,
                QuestionKind::Text {
                    is_single_line_question: true,
                    regex_pattern: Some("^[A-Z]{3}-\\d+$".into()),
                },
            ),
        ];
        let ok = validate(p.clone()).unwrap();
        assert_eq!(ok.questions[0].sequence, 1);
        p.questions[1].kind = QuestionKind::Text {
            is_single_line_question: true,
            regex_pattern: Some("([".into()),
        };
        assert!(validate(p.clone()).is_err());
        p.questions[1].kind = QuestionKind::MultipleChoice {
            is_multiple_selection_allowed: true,
            choices: vec![],
        };
        assert!(validate(p).is_err());
    }

    #[test]
    fn self_requests_follow_the_flags() {
        let mut p = policy(AllowedTargetScope::AllMemberUsers);
        assert!(p.accepts_self_requests());
        p.requestor_settings.enable_targets_to_self_add_access = false;
        assert!(!p.accepts_self_requests());
        let mut d = policy(AllowedTargetScope::NotSpecified);
        assert!(!d.accepts_self_requests());
        d.requestor_settings.enable_targets_to_self_add_access = true;
        assert!(validate(d).is_err());
    }
}
