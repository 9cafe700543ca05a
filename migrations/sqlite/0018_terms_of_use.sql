-- Terms of use that people from outside accept before they request access: the one current
-- text (no row: no terms), its version (a hash of the text), and who accepted which version.

CREATE TABLE terms_of_use (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    text TEXT NOT NULL,
    version TEXT NOT NULL,
    modified_at BIGINT NOT NULL
);

CREATE TABLE terms_acceptances (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    version TEXT NOT NULL,
    accepted_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject, version)
);
