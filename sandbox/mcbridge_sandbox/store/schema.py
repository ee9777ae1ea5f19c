"""The sandbox's tables.

Members are listed in rowid order, the order they were added, which never changes, so
offset paging is stable. `member_blocks` counts members per (audience, status, block of
1000 rowids); summing it finds where an offset starts and what `total_items` is without
walking a million rows. Triggers keep it right whatever writes the members table.
"""

BLOCK_SIZE = 1000

MEMBER_BLOCK_TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS member_blocks_insert AFTER INSERT ON members BEGIN
    INSERT INTO member_blocks (audience, status, block, n)
    VALUES (new.audience, new.status, new.id / {BLOCK_SIZE}, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS member_blocks_delete AFTER DELETE ON members BEGIN
    UPDATE member_blocks SET n = n - 1
    WHERE audience = old.audience AND status = old.status AND block = old.id / {BLOCK_SIZE};
END;
CREATE TRIGGER IF NOT EXISTS member_blocks_status AFTER UPDATE OF status ON members
WHEN old.status <> new.status BEGIN
    UPDATE member_blocks SET n = n - 1
    WHERE audience = old.audience AND status = old.status AND block = old.id / {BLOCK_SIZE};
    INSERT INTO member_blocks (audience, status, block, n)
    VALUES (new.audience, new.status, new.id / {BLOCK_SIZE}, 1)
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
"""

MEMBER_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS members_hash ON members (audience, hash);
CREATE INDEX IF NOT EXISTS members_audience ON members (audience);
CREATE INDEX IF NOT EXISTS members_status ON members (audience, status);
"""

# Columns added since the first sandbox data files: (table, column, definition, what to
# fill in for the rows already there). Cleaned members were always in a compliance state;
# older unsubscribed rows do not say who unsubscribed them, and count as unsubscribed by an
# admin: the permissive reading, under which a sync that re-subscribes them is not refused.
ADDED_COLUMNS = (
    (
        "members",
        "compliance",
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE members SET compliance = 1 WHERE status = 'cleaned'",
    ),
    ("faults", "min_count", "INTEGER", ""),
    ("faults", "shift", "INTEGER NOT NULL DEFAULT 0", ""),
    ("faults", "served", "INTEGER NOT NULL DEFAULT 0", ""),
    ("audiences", "marketing_permissions", "TEXT NOT NULL DEFAULT '[]'", ""),
    ("members", "marketing_permissions", "TEXT NOT NULL DEFAULT '{}'", ""),
    ("faults", "per_member_ms", "INTEGER NOT NULL DEFAULT 0", ""),
    ("request_log", "members", "INTEGER NOT NULL DEFAULT 1", ""),
)

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    api_key TEXT NOT NULL UNIQUE,
    dc TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audiences (
    pk INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    web_id INTEGER NOT NULL,
    date_created TEXT NOT NULL,
    next_merge_id INTEGER NOT NULL DEFAULT 1,
    marketing_permissions TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS audiences_account ON audiences (account_id);
CREATE TABLE IF NOT EXISTS members (
    id INTEGER PRIMARY KEY,
    audience INTEGER NOT NULL,
    hash TEXT NOT NULL,
    email TEXT NOT NULL,
    unique_email_id TEXT NOT NULL,
    web_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    prior_status TEXT NOT NULL DEFAULT '',
    merge_fields TEXT NOT NULL DEFAULT '{}',
    email_type TEXT NOT NULL DEFAULT 'html',
    language TEXT NOT NULL DEFAULT '',
    vip INTEGER NOT NULL DEFAULT 0,
    ip_signup TEXT NOT NULL DEFAULT '',
    timestamp_signup TEXT NOT NULL DEFAULT '',
    ip_opt TEXT NOT NULL DEFAULT '',
    timestamp_opt TEXT NOT NULL DEFAULT '',
    unsubscribe_reason TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT 'API - Generic',
    last_changed TEXT NOT NULL,
    compliance INTEGER NOT NULL DEFAULT 0,
    marketing_permissions TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS member_blocks (
    audience INTEGER NOT NULL,
    status TEXT NOT NULL,
    block INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (audience, status, block)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS merge_fields (
    audience INTEGER NOT NULL,
    merge_id INTEGER NOT NULL,
    tag TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    required INTEGER NOT NULL DEFAULT 0,
    default_value TEXT NOT NULL DEFAULT '',
    public INTEGER NOT NULL DEFAULT 1,
    display_order INTEGER NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',
    help_text TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (audience, merge_id),
    UNIQUE (audience, tag)
);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    audience INTEGER NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (audience, name)
);
CREATE TABLE IF NOT EXISTS segment_members (
    segment_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (segment_id, member_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS segment_members_member ON segment_members (member_id);
CREATE TABLE IF NOT EXISTS forgotten (
    audience INTEGER NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (audience, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS throttled (
    hash TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS webhooks (
    id TEXT PRIMARY KEY,
    audience INTEGER NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    sources TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    total_operations INTEGER NOT NULL,
    finished_operations INTEGER NOT NULL DEFAULT 0,
    errored_operations INTEGER NOT NULL DEFAULT 0,
    submitted_at TEXT NOT NULL,
    completed_at TEXT NOT NULL DEFAULT '',
    results_url TEXT NOT NULL,
    operations TEXT NOT NULL,
    results BLOB
);
CREATE INDEX IF NOT EXISTS batches_status ON batches (status, seq);
CREATE TABLE IF NOT EXISTS batch_history (
    batch_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_history_batch ON batch_history (batch_id);
CREATE TABLE IF NOT EXISTS request_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    status INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    key TEXT NOT NULL,
    account_id INTEGER,
    members INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS faults (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,
    retry_after INTEGER,
    with_body INTEGER NOT NULL DEFAULT 1,
    latency_ms INTEGER NOT NULL DEFAULT 0,
    remaining INTEGER,
    account_id INTEGER,
    method TEXT,
    path_prefix TEXT,
    min_count INTEGER,
    shift INTEGER NOT NULL DEFAULT 0,
    served INTEGER NOT NULL DEFAULT 0,
    per_member_ms INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS consent_ledger (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    audience_id TEXT NOT NULL,
    email TEXT NOT NULL,
    status_before TEXT NOT NULL,
    archived_from TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    key TEXT NOT NULL,
    batch_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consent_ledger_audience ON consent_ledger (audience_id);
"""
    + MEMBER_INDEXES
    + MEMBER_BLOCK_TRIGGERS
)
