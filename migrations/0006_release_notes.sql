-- 0006_release_notes.sql -- node image release notes, kept once fetched
-- (DESIGN.md 6, Changes).
--
-- One row per node image version whose notes were fetched: the notes
-- path (AgentBaker's <family>/<variant>/<version>), the URL they came
-- from, when, their SHA-256 and the text itself (at most the fetch cap,
-- a few hundred KiB).  A build's notes never change once published, so a
-- row is fetched once and then read offline; a row whose body no longer
-- matches its hash is ignored and fetched again.  Failures (404,
-- unreachable, unknown family) are not kept: the next command tries again.

CREATE TABLE release_notes (
	id                 INTEGER PRIMARY KEY,
	node_image_version TEXT NOT NULL UNIQUE,
	path               TEXT NOT NULL,
	url                TEXT NOT NULL,
	fetched_at         INTEGER NOT NULL,
	sha256             TEXT NOT NULL CHECK (length(sha256) = 64),
	size               INTEGER NOT NULL,
	body               BLOB NOT NULL
);
