-- Social identity providers (consumer accounts): they sign people in but speak for no
-- organization, so their domains only route sign-in and match no connected organization.

ALTER TABLE identity_providers ADD COLUMN social BOOLEAN NOT NULL DEFAULT FALSE;
