/*
 * db.c -- the store: one SQLite file, opened, checked, migrated and queried.
 *
 * Opening is careful about other people's files.  Before anything is
 * written we read the header fields SQLite keeps for applications: a file
 * whose application_id is not ours (or that holds tables but no id at all)
 * is refused, and so is a store whose user_version is newer than the
 * migrations compiled into this binary.  Only then is the journal switched
 * to WAL (which writes the header) and the migrations applied.  A refused
 * file is left byte for byte as it was.
 *
 * Migrations (migrations/NNNN_slug.sql, embedded at build time into
 * build/gen/migrations.c) run in order, each in one BEGIN IMMEDIATE
 * transaction that also bumps user_version, so a failure anywhere leaves the
 * store at the previous version.  The first one also stamps the
 * application_id.  The runner re-reads user_version inside each
 * transaction: two processes opening a new store at once do not both apply
 * the same step.  Foreign keys are off while migrating (so a later
 * migration may rebuild a table the SQLite way) and checked with
 * PRAGMA foreign_key_check before each commit.
 *
 * Pragmas, per connection: foreign_keys=ON (SQLite's default is off);
 * busy_timeout 5 s (a concurrent `aksnap list` must not fail a run);
 * synchronous=NORMAL, which in WAL mode never corrupts the file -- a power
 * loss may only lose the last transactions, and the run is built to
 * converge after losing them (intents before PUTs, deterministic names,
 * reconcile on the next run) -- while saving an fsync per commit.
 *
 * Memory, chosen rather than inherited (issue 16): cache_size = -4096, a
 * 4 MiB page cache (SQLite's default is 2 MiB), for the run and the
 * readers alike.  Every per-pool question is an index seek touching a few
 * pages per table, and a run asks them pool after pool in pool-id order,
 * so what it reads again and again is the upper levels of each index and
 * the pages its inserts go on: a small set, which 4 MiB keeps resident.
 * Measured over a first run of 10,000 pools (strace, pages read and
 * written): 8 MiB 11,932 reads and 394,842 writes, 4 MiB 12,677 and
 * 398,881 (+0.6 % and +1 %: the run's CPU does not move), 2 MiB 16,011
 * and 403,772; while 8 MiB was a quarter of the 32 MiB a 10,000-pool run
 * may use at its peak, 4 MiB is an eighth.  A reader walks its rows once
 * and gains nothing from more.
 * SQLITE_CONFIG_MEMSTATUS off: SQLite's allocator otherwise takes a
 * global mutex and updates its statistics on every malloc and free, and
 * nothing here reads them (sqlite3_memory_used): 648,000 mutex calls, 7 %
 * of the instructions of a run over 1,000 pools (callgrind, 956 M ->
 * 888 M on the yearrun bench's present store), every command alike.
 * Statement journals kept in memory up to 120 KiB
 * (SQLITE_CONFIG_STMTJRNL_SPILL, process-wide, set before the first open;
 * SQLite's default is 64 KiB). A statement inside a transaction that can fail
 * half-way (an UPDATE whose triggers keep other tables, an upsert) journals
 * every page it changes; past the spill size SQLite moves that journal to a
 * temporary file, and the file stays for the rest of the transaction, so every
 * later statement of a run's grouped commit wrote its pages with two
 * pwrite calls each.  Marking one snapshot active touches about 16 pages
 * (its row, its indexes, the tables their triggers keep) on a store of
 * 10,000 pools: a steady run made 5,000-47,000 pwrite calls to such files,
 * the larger part of its system time.  120 KiB holds 29 pages; SQLite
 * allocates the journal's memory in one chunk of the spill size, which
 * must stay under glibc's mmap threshold (128 KiB, fixed once main sets
 * M_TRIM_THRESHOLD): at 1 MiB every statement mapped and unmapped its
 * chunk, 50,000 mmap/munmap pairs a run.  A larger statement (a
 * migration's) still spills to a file.
 * mmap_size = 0: no memory-mapped reads.  Mapped pages of a year-old
 * store would count into the process's RSS without bound, and an I/O
 * error on a mapped page (a full or vanished volume, a store on a network
 * share) is a SIGBUS instead of SQLITE_IOERR that names the file.
 *
 * Every statement is prepared once, kept in struct db, and reset with its
 * bindings cleared after each use (a run inserts thousands of rows).  If a
 * cached statement is still stepping -- a callback of db_history calling
 * db_history -- a temporary copy is prepared instead.  Values are always
 * bound; the only SQL built with printf is PRAGMA application_id/
 * user_version with integer constants (pragmas take no parameters), the
 * tests' db_pragma_int with a name from its fixed list, and the
 * migrations' own compiled-in text.
 *
 * Mapping: optional text ("" in the structs) is stored as NULL and read
 * back as ""; times 0 (unset) are stored as NULL and read back as 0.
 */
#include "db/db.h"
#include "db/db_channels.h"
#include "db/db_check.h"
#include "db/db_internal.h"
#include "db/db_ladder.h"
#include "db/db_pool_memo.h"
#include "db/migrations.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job/base/log.h"
#include "job/base/util.h"

#define DB_BUSY_TIMEOUT_MS 5000

const char *const db_snapshot_states[DB_SNAPSHOT_NSTATES + 1] = {"creating",
    "active", "deleting", "deleted", "failed", "missing", "unconfirmed",
    "conflict", NULL};

static const char *const run_modes[] = {"run", "dry-run", "plan", "snapshot",
    "prune", "promote", "demote", "pin", "unpin", "apply", "sync", NULL};

static const char *const decision_actions[] = {"create", "skip", "keep",
    "delete", "promote", "demote", "pin", "unpin", "fail", "adopt", "missing",
    NULL};

/* ---- the statements ---- */

enum st {
	ST_APPLICATION_ID,
	ST_USER_VERSION,
	ST_PAGE_COUNT,
	ST_FREELIST_COUNT,
	ST_PAGE_SIZE,
	ST_HAS_TABLES,
	ST_SET_WAL,
	ST_FK_CHECK,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_COUNTS,
	ST_COUNT_STATES,
	ST_RUN_START,
	ST_RUN_FINISH,
	ST_RUN_LAST_ANY,
	ST_RUN_LAST_MODE,
	ST_POOL_SYNC,
	ST_POOL_LOCATION,
	ST_POOL_SAME,
	ST_POOL_GET,
	ST_OBS_LATEST,
	ST_HISTORY,
	ST_HISTORY_CHANGES,
	ST_HISTORY_ALL,
	ST_HISTORY_CHANGES_ALL,
	ST_SNAP_INTENT,
	ST_SNAP_STATE_BY_NAME,
	ST_SNAP_ACTIVE,
	ST_SNAP_SET_STATE,
	ST_SNAP_PINNED,
	ST_SNAP_GET,
	ST_SNAP_BY_ARM_ID,
	ST_SNAP_BY_NAME,
	ST_SNAP_LIST_POOL,
	ST_SNAP_LIST_POOL_STATE,
	ST_SNAP_LIST_POOL_ACTIVE,
	ST_SNAP_LIST_ALL,
	ST_SNAP_LIST_STATE,
	ST_SNAP_NEWEST_ACTIVE,
	ST_SNAP_CHANNEL,
	ST_SNAP_ADOPT,
	ST_SLOT_TAKEN,
	ST_DEC_TEXT,
	ST_DEC_ADD,
	ST_DEC_LIST,
	ST_RUNS_FAILED,
	ST_POOL_LAST_SUCCESS,
	ST_POOL_SNAP_COUNTS,
	ST_PROMOTED_HISTORY,
	ST_DEC_LAST,
	ST_DEC_LAST_POOL,
	ST_DEC_EXTEND,
	ST_DEC_SAME,
	ST_DEC_TEXT_ID,
	ST_POOL_KEY_OF,
	ST_DEC_CLOSE,
	ST_DEC_OPEN,
	ST_DEC_EXPLAIN, /* report commands */
	ST__COUNT
};

#define RUN_COLS                                                               \
	"SELECT id, started_at, finished_at, as_of, mode, exit_code, "         \
	"observed, taken, skipped, deleted, promoted, failed FROM runs "

/* OBS_COLS_OF(key): an observation row, the pool's key as ${key} */
#define OBS_COLS_OF(key)                                                       \
	"o.id, o.pool_id, o.run_id, " key ", o.observed_at, "                  \
	"o.node_image_version, o.kubernetes_version, o.os_type, o.os_sku, "    \
	"o.vm_size, o.enable_fips, o.provisioning_state, "                     \
	"o.upgrade_channel, o.node_os_channel, o.changed_by, "                 \
	"o.last_seen, o.last_run_id, o.seen "
#define OBS_COLS OBS_COLS_OF("p.key")

/* the ARM id of row s of pool p, derived when not stored (0017), and
 * "it is ?1" */
#define SNAP_ARM_ID DB_SNAP_ARM_ID("s", "p")
#define SNAP_ARM_ID_IS_1 DB_SNAP_ARM_ID_IS("s", "p", "?1")

/* SNAP_COLUMNS_OF(key, arm_id): a snapshot row, the pool's key as
 * ${key}, the ARM id as ${arm_id} */
#define SNAP_COLUMNS_OF(key, arm_id)                                           \
	"s.id, s.pool_id, " key ", s.name, " arm_id ", s.slot, "               \
	"s.created_at, s.node_image_version, s.kubernetes_version, "           \
	"s.os_type, s.os_sku, s.vm_size, s.enable_fips, s.state, s.pinned, "   \
	"s.channel, s.promoted_at, s.demoted_at, s.error "
#define SNAP_COLUMNS SNAP_COLUMNS_OF("p.key", SNAP_ARM_ID)
#define SNAP_COLS                                                              \
	"SELECT " SNAP_COLUMNS                                                 \
	"FROM snapshots s JOIN pools p ON p.id = s.pool_id "

/*
 * ARM_ID_STORED(pool, name, arm_id): what snapshots.arm_id holds for a
 * snapshot ${name} of pool ${pool} whose ARM id is ${arm_id}: NULL when
 * it is, byte for byte, the one DB_SNAP_ARM_ID derives (migration 0017).
 */
#define ARM_ID_STORED(pool, name, arm_id)                                      \
	"nullif(" arm_id                                                       \
	" COLLATE BINARY, (SELECT " DB_SNAP_ARM_ID_OF(name, "p.subscription",  \
	    "p.resource_group") " FROM pools p WHERE p.id = " pool "))"
/* ?1 the pool, ?2 the name, ?3 the ARM id: as ST_SNAP_INTENT binds them */
#define ARM_ID_STORED_123 ARM_ID_STORED("?1", "?2", "?3")

/*
 * DEC_TEXT_OF(text, pool): a decision's reasons as decision_texts holds
 * them (migration 0015): every occurrence of the key of pool ${pool}
 * written as char(1); the text as it is when ${pool} is NULL.
 */
#define DEC_TEXT_OF(text, pool)                                                \
	"replace(" text                                                        \
	", coalesce((SELECT p.key FROM pools p WHERE p.id = " pool             \
	"), ''), char(1))"

static const char *const st_sql[ST__COUNT] = {
    [ST_APPLICATION_ID] = "PRAGMA application_id",
    [ST_USER_VERSION] = "PRAGMA user_version",
    [ST_PAGE_COUNT] = "PRAGMA page_count",
    [ST_FREELIST_COUNT] = "PRAGMA freelist_count",
    [ST_PAGE_SIZE] = "PRAGMA page_size",
    [ST_HAS_TABLES] = "SELECT count(*) FROM sqlite_master",
    [ST_SET_WAL] = "PRAGMA journal_mode = WAL",
    [ST_FK_CHECK] = "PRAGMA foreign_key_check",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT db_step",
    [ST_RELEASE] = "RELEASE db_step",
    [ST_ROLLBACK_TO] = "ROLLBACK TO db_step",
    /* the growing tables' counts are kept by 0016's triggers */
    [ST_COUNTS] = "SELECT (SELECT count(*) FROM pools), "
                  "(SELECT n FROM row_counts WHERE name = 'observations'), "
                  "(SELECT sum(n) FROM row_counts "
                  "WHERE name GLOB 'snapshots.*'), "
                  "(SELECT count(*) FROM runs), "
                  "(SELECT n FROM row_counts WHERE name = 'decisions')",
    [ST_COUNT_STATES] = "SELECT substr(name, 11), n FROM row_counts "
                        "WHERE name GLOB 'snapshots.*'",
    [ST_RUN_START] = "INSERT INTO runs (started_at, as_of, mode, pid) "
                     "VALUES (?1, ?2, ?3, ?4)",
    [ST_RUN_FINISH] = "UPDATE runs SET finished_at = ?2, exit_code = ?3, "
                      "observed = ?4, taken = ?5, skipped = ?6, "
                      "deleted = ?7, promoted = ?8, failed = ?9 "
                      "WHERE id = ?1",
    /*
     * The same decision as the open one of its subject (0018: ?1 pool,
     * ?2 snapshot or 0, ?3 action, ?4 reasons' and ?5 fingerprint's ids
     * in decision_texts, NULL for an empty text): its range grows there
     * (?6 run, ?7 at, ?8 slot), no row of decision_rows is written.  The
     * primary key's one row: the texts' ids come from text_id, a run
     * asks about a pool's dozen snapshots with a handful of texts.
     */
    /* a keep's end never behind its pool's memo extension (0026) */
    [ST_DEC_SAME] = "UPDATE decision_open SET last_run_id = ?6, "
                    "last_at = max(last_at, ?7, coalesce((SELECT m.ext_at "
                    "FROM pool_retain_memo m WHERE m.pool_id = ?1 AND "
                    "?2 > 0 AND ?3 = 'keep' AND m.ext_run_id > "
                    "coalesce(decision_open.last_run_id, 0)), 0)), "
                    "last_slot = ?8 "
                    "WHERE pool_id = ?1 AND snapshot_id = ?2 AND "
                    "action = ?3 AND reasons_id IS ?4 AND "
                    "fingerprint_id IS ?5",
    /* a decision text's id (NULL: none), ?2 its pool as ST_DEC_TEXT */
    [ST_DEC_TEXT_ID] = "SELECT (SELECT t.id FROM decision_texts t "
                       "WHERE t.text = " DEC_TEXT_OF("?1", "?2") ")",
    [ST_POOL_KEY_OF] = "SELECT key FROM pools WHERE id = ?1",
    /* the subject's open range ends: decision_open_close writes its end
     * into decision_rows */
    [ST_DEC_CLOSE] = "DELETE FROM decision_open "
                     "WHERE pool_id = ?1 AND snapshot_id = ?2",
    /* decision ?1 becomes its subject's open one, its range ending at
     * ?2 run, ?3 at, ?4 slot (as ST_DEC_EXTEND would have ended it) */
    [ST_DEC_OPEN] =
        "INSERT INTO decision_open (pool_id, snapshot_id, decision_id, "
        "action, reasons_id, fingerprint_id, slot, last_run_id, last_at, "
        "last_slot) SELECT pool_id, coalesce(snapshot_id, 0), id, action, "
        "reasons_id, fingerprint_id, slot, ?2, max(last_at, ?3), ?4 "
        "FROM decision_rows WHERE id = ?1 AND reasons IS NULL",
    [ST_RUN_LAST_ANY] = RUN_COLS "WHERE finished_at IS NOT NULL "
                                 "ORDER BY started_at DESC, id DESC LIMIT 1",
    [ST_RUN_LAST_MODE] = RUN_COLS "WHERE mode = ?1 AND finished_at IS NOT NULL "
                                  "ORDER BY started_at DESC, id DESC LIMIT 1",
    [ST_POOL_SYNC] =
        "INSERT INTO pools (key, subscription, resource_group, cluster, "
        "nodepool, arm_id, created_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
        "ON CONFLICT (key) DO UPDATE SET "
        "subscription = excluded.subscription, "
        "resource_group = excluded.resource_group, "
        "cluster = excluded.cluster, nodepool = excluded.nodepool, "
        "arm_id = excluded.arm_id, updated_at = excluded.updated_at "
        "RETURNING id",
    /* a row written only when it changes: every run observes every pool */
    [ST_POOL_LOCATION] = "UPDATE pools SET location = ?2, updated_at = ?3 "
                         "WHERE id = ?1 AND location IS NOT ?2",
    /* the pool's row when the configuration says what it says */
    [ST_POOL_SAME] = "SELECT id FROM pools WHERE key = ?1 AND "
                     "subscription = ?2 AND resource_group = ?3 AND "
                     "cluster = ?4 AND nodepool = ?5 AND arm_id = ?6",
    [ST_POOL_GET] = "SELECT id, key, subscription, resource_group, "
                    "cluster, nodepool, arm_id, location FROM pools "
                    "WHERE key = ?1",
    /* the row pool_present names (0024; a seek of a small table), else
     * the newest by observations_by_pool_time: the same row, without a
     * leaf of that index a pool on a year's store (issue 16) */
    [ST_OBS_LATEST] =
        "SELECT " OBS_COLS "FROM observations o JOIN pools p ON "
        "p.id = o.pool_id WHERE o.id = coalesce((SELECT obs_id FROM "
        "pool_present WHERE pool_id = ?1), (SELECT q.id FROM "
        "observations q WHERE q.pool_id = ?1 ORDER BY q.observed_at DESC, "
        "q.id DESC LIMIT 1))",
    [ST_HISTORY] = "SELECT " OBS_COLS
                   "FROM observations o JOIN pools p ON p.id = o.pool_id "
                   "WHERE o.pool_id = ?1 AND " DB_HISTORY_SINCE(
                       "?1") "ORDER BY o.observed_at, o.id",
    /* the rows migration 0011's trigger marked, by its partial index */
    [ST_HISTORY_CHANGES] =
        "SELECT " OBS_COLS
        "FROM observations o JOIN pools p ON p.id = o.pool_id "
        "WHERE o.pool_id = ?1 AND o.observed_at >= ?2 AND o.changed = 1 "
        "ORDER BY o.observed_at, o.id",
    /*
     * The same of every pool in one statement, pool by pool in id order
     * (CROSS JOIN keeps pools outside): a seek of the observations' index
     * a pool, as the query per pool did, without a statement's run, lock
     * and reset a pool (?1 unused).
     */
    [ST_HISTORY_ALL] =
        "SELECT " OBS_COLS "FROM pools p CROSS JOIN observations o "
        "ON o.pool_id = p.id WHERE " DB_HISTORY_SINCE(
            "p.id") "ORDER BY p.id, o.observed_at, o.id",
    [ST_HISTORY_CHANGES_ALL] =
        "SELECT " OBS_COLS "FROM pools p CROSS JOIN observations o "
        "ON o.pool_id = p.id "
        "WHERE o.observed_at >= ?2 AND o.changed = 1 "
        "ORDER BY p.id, o.observed_at, o.id",
    /*
     * Reuse a failed (or still creating, or unconfirmed) row of the same
     * name: a PUT of the same name is the same snapshot.  Refuse any
     * other: the upsert's WHERE is false and nothing is returned.
     */
    [ST_SNAP_INTENT] =
        "INSERT INTO snapshots (pool_id, name, arm_id, slot, created_at, "
        "state, updated_at) VALUES (?1, ?2, " ARM_ID_STORED_123 ", ?4, ?5, "
        "'creating', ?5) ON CONFLICT (pool_id, name) DO UPDATE SET "
        "arm_id = excluded.arm_id, slot = excluded.slot, "
        "created_at = excluded.created_at, state = 'creating', "
        "error = NULL, updated_at = excluded.updated_at "
        "WHERE snapshots.state IN ('failed', 'creating', 'unconfirmed') "
        "RETURNING id",
    [ST_SNAP_STATE_BY_NAME] = "SELECT state FROM snapshots "
                              "WHERE pool_id = ?1 AND name = ?2",
    [ST_SNAP_ACTIVE] =
        "UPDATE snapshots SET state = 'active', "
        "created_at = CASE WHEN ?2 > 0 THEN ?2 ELSE created_at END, "
        "node_image_version = coalesce(?3, node_image_version), "
        "kubernetes_version = coalesce(?4, kubernetes_version), "
        "os_type = coalesce(?5, os_type), os_sku = coalesce(?6, os_sku), "
        "vm_size = coalesce(?7, vm_size), "
        "enable_fips = coalesce(?8, enable_fips), error = NULL, "
        "updated_at = ?9 WHERE id = ?1",
    [ST_SNAP_SET_STATE] = "UPDATE snapshots SET state = ?2, error = ?3, "
                          "updated_at = ?4 WHERE id = ?1",
    [ST_SNAP_PINNED] = "UPDATE snapshots SET pinned = ?2, updated_at = ?3 "
                       "WHERE id = ?1",
    [ST_SNAP_GET] = SNAP_COLS "WHERE s.id = ?1",
    [ST_SNAP_BY_ARM_ID] = SNAP_COLS "WHERE " SNAP_ARM_ID_IS_1
                                    " ORDER BY s.created_at DESC, s.id DESC "
                                    "LIMIT 1",
    [ST_SNAP_BY_NAME] = SNAP_COLS "WHERE s.name = ?1 "
                                  "ORDER BY s.created_at DESC, s.id DESC "
                                  "LIMIT 2",
    [ST_SNAP_LIST_POOL] =
        SNAP_COLS "WHERE s.pool_id = ?1 ORDER BY s.created_at DESC, s.id DESC",
    /*
     * "+?2": a bare ?2 compared with the partial index snapshots_pending
     * makes SQLite re-prepare the statement at every new binding (it
     * checks whether the bound state is one the index covers); the pool's
     * index is the right one whatever the state, so take the parameter
     * out of that check.  A run lists every pool's snapshots: 20,000
     * re-prepares for 10,000 pools otherwise.
     */
    [ST_SNAP_LIST_POOL_STATE] =
        SNAP_COLS "WHERE s.pool_id = ?1 AND s.state = +?2 "
                  "ORDER BY s.created_at DESC, s.id DESC",
    /*
     * The state written out: only then is the partial covering index
     * snapshots_active_rows (0019) the plan, and a run reads a pool's
     * active snapshots from a page of it, not from their rows.
     */
    [ST_SNAP_LIST_POOL_ACTIVE] =
        SNAP_COLS "WHERE s.pool_id = ?1 AND s.state = 'active' "
                  "ORDER BY s.created_at DESC, s.id DESC",
    [ST_SNAP_LIST_ALL] = SNAP_COLS "ORDER BY s.created_at DESC, s.id DESC",
    [ST_SNAP_LIST_STATE] =
        SNAP_COLS "WHERE s.state = ?2 ORDER BY s.created_at DESC, s.id DESC",
    [ST_SNAP_NEWEST_ACTIVE] =
        SNAP_COLS "WHERE s.pool_id = ?1 AND s.state = 'active' "
                  "ORDER BY s.created_at DESC, s.id DESC LIMIT 1",
    [ST_SNAP_CHANNEL] = SNAP_COLS
    "JOIN snapshot_channels h ON h.snapshot_id = s.id "
    "WHERE h.pool_id = ?1 AND h.channel = ?2 AND h.left_at IS NULL",
    [ST_SNAP_ADOPT] =
        "INSERT INTO snapshots (pool_id, name, arm_id, slot, created_at, "
        "node_image_version, kubernetes_version, os_type, os_sku, vm_size, "
        "enable_fips, state, pinned, channel, promoted_at, error, "
        "updated_at) VALUES (?1, ?2, " ARM_ID_STORED_123 ", ?4, ?5, ?6, "
        "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    [ST_RUNS_FAILED] = "SELECT count(*) FROM runs WHERE exit_code > 0",
    [ST_POOL_LAST_SUCCESS] = "SELECT " DB_POOL_LAST_SUCCESS("?1"),
    /* the counts 0019's triggers keep: a few rows of one page, not a
     * walk of every snapshot the pool ever had */
    [ST_POOL_SNAP_COUNTS] = "SELECT state, n FROM pool_snapshot_counts "
                            "WHERE pool_id = ?1 AND n > 0 ORDER BY state",
    [ST_DEC_LAST] = "SELECT action, reasons, fingerprint, id, at "
                    "FROM decisions WHERE snapshot_id = ?1 "
                    "ORDER BY at DESC, id DESC LIMIT 1",
    /* the pool's last decision naming no snapshot (a skip, a failure to
     * observe): decisions_pool_level */
    [ST_DEC_LAST_POOL] = "SELECT action, reasons, fingerprint, id, at "
                         "FROM decisions WHERE pool_id = ?1 AND "
                         "snapshot_id IS NULL ORDER BY at DESC, id DESC "
                         "LIMIT 1",
    /* the same decision again: the run range grows (0008) */
    [ST_DEC_EXTEND] = "UPDATE decision_rows SET last_run_id = ?2, "
                      "last_at = max(last_at, ?3), last_slot = ?4 "
                      "WHERE id = ?1",
    [ST_PROMOTED_HISTORY] =
        "SELECT id FROM snapshots WHERE pool_id = ?1 AND promoted_at IS "
        "NOT NULL ORDER BY promoted_at DESC, id DESC LIMIT ?2",
    /*
     * Each question only when the one before it said no (a CASE: SQLite
     * evaluates every operand of an OR in a result column), the cheapest
     * first: the open skip range (a key the run reads again for the
     * pool), a snapshot of the slot (snapshots_by_pool_slot: a small
     * index), and last a closed skip range (decisions_by_pool_last_slot,
     * an index over every decision the store keeps: a skip closed in its
     * own slot is rare).  A pool that skipped the slot -- most of a
     * steady fleet -- no longer reads the page of its snapshots' slot
     * index (issue 16: 870 of a yearrun run's page reads on the year's
     * store), and one that took its snapshot no longer seeks the
     * decisions' index (1,978 page reads of 1,000 pools there).
     */
    [ST_SLOT_TAKEN] =
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM decision_open WHERE "
        "pool_id = ?1 AND snapshot_id = 0 AND action = 'skip' AND "
        "last_slot >= ?2 AND slot <= ?2) THEN 1 WHEN EXISTS (SELECT 1 FROM "
        "snapshots WHERE pool_id = ?1 AND slot = ?2 AND state <> 'failed') "
        "THEN 1 ELSE EXISTS (SELECT 1 FROM decision_rows d WHERE "
        "d.pool_id = ?1 AND d.action = 'skip' AND d.last_slot >= ?2 AND "
        "NOT " DB_DEC_IS_OPEN("d", "?1") " AND d.slot <= ?2) END",
    /*
     * A decision's texts, once (0015): its reasons with its pool's key
     * as char(1) (?2 the pool, NULL for a fingerprint, stored as it is);
     * an empty text is no row (NULL: the insert is ignored).
     */
    [ST_DEC_TEXT] = "INSERT OR IGNORE INTO decision_texts (text) "
                    "VALUES (nullif(" DEC_TEXT_OF("?1", "?2") ", ''))",
    /* ?7 reasons inline (a text holding char(1)), ?8 reasons by id */
    [ST_DEC_ADD] =
        "INSERT INTO decision_rows (run_id, pool_id, "
        "snapshot_id, at, slot, action, reasons, reasons_id, "
        "fingerprint_id, last_run_id, last_at, last_slot) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
        "(SELECT t.id FROM decision_texts t WHERE t.text = " DEC_TEXT_OF("?8",
            "?2") "), "
                  "(SELECT t.id FROM decision_texts t WHERE t.text = ?9), "
                  "?1, ?4, ?5)",
    [ST_DEC_LIST] = "SELECT d.id, d.run_id, d.pool_id, d.snapshot_id, "
                    "p.key, s.name, d.at, d.slot, d.action, d.reasons, "
                    "d.fingerprint, d.last_run_id, d.last_at, d.last_slot "
                    "FROM decisions d "
                    "JOIN pools p ON p.id = d.pool_id "
                    "LEFT JOIN snapshots s ON s.id = d.snapshot_id "
                    "WHERE d.snapshot_id = ?1 ORDER BY d.at, d.id",
    /*
     * report commands: `explain`.  A skip decision names no snapshot
     * (it is about the pool's slot), but it was taken because the pool
     * still matched its newest snapshot: so the skips of the pool from
     * this snapshot's creation until the next snapshot of the pool
     * belong to it.
     */
    [ST_DEC_EXPLAIN] =
        "SELECT d.id, d.run_id, d.pool_id, d.snapshot_id, p.key, s.name, "
        "d.at, d.slot, d.action, d.reasons, d.fingerprint, r.mode, "
        "d.last_run_id, d.last_at, d.last_slot FROM decisions d JOIN pools p "
        "ON p.id = d.pool_id "
        "LEFT JOIN snapshots s ON s.id = d.snapshot_id "
        "LEFT JOIN runs r ON r.id = d.run_id "
        "WHERE d.snapshot_id = ?1 OR (d.snapshot_id IS NULL AND "
        "d.pool_id = ?2 AND d.action = 'skip' AND d.at >= ?3 AND NOT "
        "EXISTS (SELECT 1 FROM snapshots n WHERE n.pool_id = ?2 AND "
        "n.id <> ?1 AND n.state NOT IN ('failed', 'unconfirmed', "
        "'conflict') AND n.created_at > ?3 AND "
        "n.created_at <= d.at)) ORDER BY d.at, d.id",
};

struct db {
	sqlite3 *conn;
	char path[PATH_MAX];
	int busy_ms;
	sqlite3_stmt *st[ST__COUNT];
	struct db_stmts *stmts; /* the topic files' statements (db_stmt.c) */
	/*
	 * A writer's pre-write check (db_check.h): when the store was last
	 * proved sound, and whether SQLite met damage since; db_close
	 * stamps the file for the next writer unless it did.
	 */
	int writer, damaged;
	time_t checked_at;
	/* the decision texts' ids text_id found (see there) */
	struct text_memo *memo;
	size_t nmemo;
	int64_t memo_pool; /* 0, or the pool whose key memo_key is */
	char memo_key[128];
};

static void text_memo_clear(struct db *db);
static void text_memo_rollback(void *ctx);

/*
 * db_fail(db, what):
 * Log the connection's last error once, with the file and what was being
 * done; SQLITE_BUSY after the busy timeout gets a message an operator can
 * act on.  Return -1.
 */
/* Whether the last failure was another process's lock (db_failed_busy). */
static int last_failure_busy;
/* Whether the last open was refused for what the store is (unusable). */
static int last_failure_unusable;

int
db_failed_unusable(void)
{
	return last_failure_unusable;
}

int
db_failed_busy(void)
{
	return last_failure_busy;
}

int
db_fail(struct db *db, const char *what)
{
	int rc = sqlite3_errcode(db->conn) & 0xff;

	last_failure_busy = (rc == SQLITE_BUSY);
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
		last_failure_unusable = 1;
		/* SQLite met damage: the next writer checks everything. */
		db->damaged = 1;
		db_check_stamp_remove(db->path);
	}
	if (rc == SQLITE_NOTADB) {
		log_err(NULL, "%s: not an aksnap database (not an SQLite file)",
		    db->path);
	} else if (rc == SQLITE_BUSY) {
		if (db->busy_ms % 1000 == 0)
			log_err(NULL,
			    "%s: %s: database is locked by another process "
			    "(waited %d s)",
			    db->path, what, db->busy_ms / 1000);
		else
			log_err(NULL,
			    "%s: %s: database is locked by another process "
			    "(waited %d ms)",
			    db->path, what, db->busy_ms);
	} else if ((rc == SQLITE_IOERR || rc == SQLITE_FULL ||
	               rc == SQLITE_CANTOPEN) &&
	    sqlite3_system_errno(db->conn) != 0) {
		/* "disk I/O error" alone hides a full disk (ENOSPC while
		 * the WAL index is made) or a permission: say which. */
		log_err(NULL, "%s: %s: %s (%s)", db->path, what,
		    sqlite3_errmsg(db->conn),
		    strerror(sqlite3_system_errno(db->conn)));
	} else {
		log_err(NULL, "%s: %s: %s", db->path, what,
		    sqlite3_errmsg(db->conn));
	}
	return -1;
}

/*
 * step_row(db, s, what):
 * Step a one-row lookup: 1 with the row ready to read, 0 when there is
 * none, -1 on error (logged with ${what}).
 */
static int
step_row(struct db *db, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return db_fail(db, what);
}

/*
 * st_get(db, id):
 * The statement ${id}, ready for binding, or NULL (logged).  The cached one
 * unless it is in the middle of a step loop (re-entry from a callback); then
 * a temporary copy that st_put finalizes.
 */
static sqlite3_stmt *
st_get(struct db *db, enum st id)
{
	sqlite3_stmt *s = NULL;

	if (db->st[id] != NULL && !sqlite3_stmt_busy(db->st[id]))
		return db->st[id];
	if (sqlite3_prepare_v3(db->conn, st_sql[id], -1,
	        db->st[id] == NULL ? SQLITE_PREPARE_PERSISTENT : 0, &s,
	        NULL) != SQLITE_OK) {
		db_fail(db, "prepare");
		return NULL;
	}
	if (db->st[id] == NULL)
		db->st[id] = s;
	return s;
}

/* st_put(db, id, s): done with ${s}: reset it (releasing its read lock). */
static void
st_put(struct db *db, enum st id, sqlite3_stmt *s)
{
	if (s == NULL)
		return;
	if (s != db->st[id]) {
		sqlite3_finalize(s);
		return;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/*
 * Binding.  bind_text: NULL is SQL NULL, "" stays "".  bind_opt: optional
 * text, "" is NULL too.  bind_opt64: optional times and ids, 0 is NULL.
 * Each returns the sqlite3_bind_* code; callers OR them together.
 */
static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

int
db_bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

static int
bind_opt64(sqlite3_stmt *s, int i, int64_t v)
{
	if (v == 0)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_int64(s, i, v);
}

void
db_col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	util_strlcpy(dst, t != NULL ? (const char *)t : "", size);
}

/* text_eq(s, i, v): column ${i} holds ${v} (NULL reads as ""). */
static int
text_eq(sqlite3_stmt *s, int i, const char *v)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return strcmp(t != NULL ? (const char *)t : "", v) == 0;
}

/*
 * st_ask(db, id, step, what, args, row, ctx): db_ask (db_internal.h) on
 * the statement ${id} of db.c's table.  st_one, st_each, st_all: with
 * db_step_one, db_step_each, db_step_all, as db_get_one, db_each_row and
 * db_get_all.  st_run(db, id, what): run ${id} without parameters to its
 * end.  0/-1.
 */
static int
st_ask(struct db *db, enum st id, db_step_fn *step, const char *what,
    struct db_args args, db_row_fn *row, void *ctx)
{
	sqlite3_stmt *s = st_get(db, id);
	int rc;

	if (s == NULL)
		return -1;
	rc = step(db, s, what, args, row, ctx);
	st_put(db, id, s);
	return rc;
}

static int
st_one(struct db *db, enum st id, const char *what, struct db_args args,
    db_row_fn *row, void *ctx)
{
	return st_ask(db, id, db_step_one, what, args, row, ctx);
}

static int
st_each(struct db *db, enum st id, const char *what, struct db_args args,
    db_row_fn *row, void *ctx)
{
	return st_ask(db, id, db_step_each, what, args, row, ctx);
}

static int
st_all(struct db *db, enum st id, const char *what, struct db_args args,
    db_row_fn *row, struct db_rows *rows)
{
	return st_ask(db, id, db_step_all, what, args, row, rows);
}

static int
st_run(struct db *db, enum st id, const char *what)
{
	return st_one(db, id, what, DB_NO_ARGS, NULL, NULL) < 0 ? -1 : 0;
}

/*
 * st_int(db, id, what, out):
 * Run a statement without parameters that returns one integer.  0/-1.
 */
static int
st_int(struct db *db, enum st id, const char *what, int64_t *out)
{
	return st_one(db, id, what, DB_NO_ARGS, db_row_int64, out) == 1 ? 0
	                                                                : -1;
}

/*
 * st_set(db, id, what, args, must_change):
 * Run the write ${id} of db.c's table with ${args} to its end.  With
 * ${must_change}, no row changed is an error ("no such row").  0/-1.
 */
static int
st_set(struct db *db, enum st id, const char *what, struct db_args args,
    int must_change)
{
	if (st_one(db, id, what, args, NULL, NULL) < 0)
		return -1;
	if (must_change && sqlite3_changes(db->conn) == 0) {
		log_err(NULL, "%s: %s: no such row", db->path, what);
		return -1;
	}
	return 0;
}

static int
in_list(const char *const *list, const char *v)
{
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], v) == 0)
			return 1;
	return 0;
}

const char *
db_path_of(const struct db *db)
{
	return db->path;
}

const char *const *
db_decision_action_names(void)
{
	return decision_actions;
}

const char *const *
db_run_mode_names(void)
{
	return run_modes;
}

/* ---- open, check, migrate ---- */

static int
latest_of(const struct migration *m, size_t n)
{
	return n > 0 ? m[n - 1].version : 0;
}

int
db_latest_version(void)
{
	return latest_of(migrations, migrations_count);
}

/*
 * exec_sql(db, sql, err, errlen):
 * sqlite3_exec of compiled-in SQL (a migration, a pragma); on error -1 with
 * the message in ${err}, for the caller to log with its context.
 */
static int
exec_sql(struct db *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db->conn, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	util_strlcpy(err, msg != NULL ? msg : sqlite3_errmsg(db->conn), errlen);
	sqlite3_free(msg);
	return -1;
}

/*
 * fk_violations(db, err, errlen):
 * 0 if PRAGMA foreign_key_check finds nothing, else -1 with the first
 * offending table in ${err}.
 */
static int
fk_violations(struct db *db, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc;

	s = st_get(db, ST_FK_CHECK);
	if (s == NULL) {
		util_strlcpy(err, sqlite3_errmsg(db->conn), errlen);
		return -1;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		snprintf(err, errlen, "foreign key violation in table %s",
		    t != NULL ? (const char *)t : "?");
	} else if (rc != SQLITE_DONE) {
		util_strlcpy(err, sqlite3_errmsg(db->conn), errlen);
	}
	st_put(db, ST_FK_CHECK, s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * store_bytes(db, free_only, out): the store's size in bytes (pages x
 * page size), or only its free pages'.  0/-1.
 */
static int
store_bytes(struct db *db, int free_only, long long *out)
{
	int64_t pages, size;

	if (st_int(db, free_only ? ST_FREELIST_COUNT : ST_PAGE_COUNT,
	        "read the page count", &pages) ||
	    st_int(db, ST_PAGE_SIZE, "read the page size", &size))
		return -1;
	*out = (long long)(pages * size);
	return 0;
}

/*
 * free_space_hint(db): after a migration that rebuilt a large table
 * (0015, 0017), the pages it held are free pages of the file, reused by
 * later writes but not given back to the file system: say so, with what
 * gives them back, when they are a quarter of the file and 1 MiB or more
 * (once: after the migrations of an open that applied some).
 */
static void
free_space_hint(struct db *db)
{
	long long free_bytes, bytes;

	if (store_bytes(db, 1, &free_bytes) == 0 &&
	    store_bytes(db, 0, &bytes) == 0 && free_bytes >= (1LL << 20) &&
	    free_bytes >= bytes / 4)
		log_warn(NULL,
		    "%s: %lld MiB of the file are free pages; `aksnap db "
		    "vacuum` gives them back",
		    db->path, free_bytes >> 20);
}

/*
 * migrate(db, m, n, stamp):
 * Apply every migration of ${m} above the store's version, each in its own
 * transaction; ${stamp}: set application_id in the first one.  0/-1.
 */
static int
migrate(struct db *db, const struct migration *m, size_t n, int stamp)
{
	char err[512], sql[64];
	int64_t uv;
	size_t i, applied = 0;

	for (i = 0; i < n; i++) {
		if (m[i].version <= 0 ||
		    (i > 0 && m[i].version <= m[i - 1].version)) {
			log_err(NULL, "%s: migration %s out of order", db->path,
			    m[i].name);
			return -1;
		}
	}

	/* No-op inside a transaction, so switched here, around them all. */
	if (exec_sql(db, "PRAGMA foreign_keys = OFF", err, sizeof(err)))
		goto fail_nomig;

	for (i = 0; i < n; i++) {
		err[0] = '\0';
		if (st_run(db, ST_BEGIN, "begin migration"))
			goto fail_nomig;
		/* Another process may have migrated since we looked. */
		if (st_int(db, ST_USER_VERSION, "read user_version", &uv))
			goto rollback;
		if (uv >= m[i].version) {
			if (st_run(db, ST_COMMIT, "commit"))
				goto rollback;
			continue;
		}
		if (stamp) {
			snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
			    DB_APPLICATION_ID);
			if (exec_sql(db, sql, err, sizeof(err)))
				goto fail;
		}
		if (exec_sql(db, m[i].sql, err, sizeof(err)))
			goto fail;
		if (sqlite3_get_autocommit(db->conn)) {
			/* The file ended our transaction: atomicity is gone. */
			util_strlcpy(err, "migration must not BEGIN/COMMIT",
			    sizeof(err));
			goto fail;
		}
		if (fk_violations(db, err, sizeof(err)))
			goto fail;
		snprintf(
		    sql, sizeof(sql), "PRAGMA user_version = %d", m[i].version);
		if (exec_sql(db, sql, err, sizeof(err)))
			goto fail;
		if (exec_sql(db, "COMMIT", err, sizeof(err)))
			goto fail;
		stamp = 0;
		applied++;
		/* The WAL back into the file and emptied: a migration that
		 * rebuilds a table writes it whole into the WAL, which would
		 * otherwise keep that size (2 GB for 0015 on a year's store)
		 * and add up over the migrations of a new store.  Best effort:
		 * a reader may hold it back. */
		(void)exec_sql(
		    db, "PRAGMA wal_checkpoint(TRUNCATE)", err, sizeof(err));
		log_info(NULL, "%s: migrated to schema version %d (%s)",
		    db->path, m[i].version, m[i].name);
	}
	if (exec_sql(db, "PRAGMA foreign_keys = ON", err, sizeof(err)))
		goto fail_nomig;
	if (applied > 0)
		free_space_hint(db);
	return 0;

fail:
	log_err(NULL, "%s: migration %s failed: %s", db->path, m[i].name, err);
rollback:
	if (!sqlite3_get_autocommit(db->conn))
		(void)exec_sql(db, "ROLLBACK", err, sizeof(err));
	(void)exec_sql(db, "PRAGMA foreign_keys = ON", err, sizeof(err));
	return -1;
fail_nomig:
	if (err[0] != '\0')
		log_err(NULL, "%s: migrate: %s", db->path, err);
	(void)exec_sql(db, "PRAGMA foreign_keys = ON", err, sizeof(err));
	return -1;
}

/*
 * check_ours(db, latest, migrating, uvp, stampp):
 * Read the header fields and decide, without writing, whether this file may
 * be used: 0 with the version and whether the id must be stamped, or -1
 * (logged) for a foreign, newer (or, when not ${migrating}, older) store.
 */
static int
check_ours(struct db *db, int latest, int migrating, int64_t *uvp, int *stampp)
{
	int64_t appid, uv, ntables;

	if (st_int(db, ST_APPLICATION_ID, "read application_id", &appid) ||
	    st_int(db, ST_USER_VERSION, "read user_version", &uv) ||
	    st_int(db, ST_HAS_TABLES, "read schema", &ntables))
		return -1;
	if (appid != 0 && appid != DB_APPLICATION_ID) {
		log_err(NULL,
		    "%s: not an aksnap database (application_id 0x%08x)",
		    db->path, (unsigned int)(uint32_t)appid);
		last_failure_unusable = 1;
		return -1;
	}
	if (appid == 0 && (ntables > 0 || uv != 0)) {
		log_err(NULL,
		    "%s: not an aksnap database (it holds another "
		    "application's tables)",
		    db->path);
		last_failure_unusable = 1;
		return -1;
	}
	if (uv > latest) {
		log_err(NULL,
		    "%s: schema version %lld is newer than this aksnap (knows "
		    "up to %d); upgrade aksnap",
		    db->path, (long long)uv, latest);
		last_failure_unusable = 1;
		return -1;
	}
	if (!migrating && uv != latest) {
		log_err(NULL,
		    "%s: schema version %lld, this aksnap needs %d; run "
		    "`aksnap db migrate`",
		    db->path, (long long)uv, latest);
		last_failure_unusable = 1;
		return -1;
	}
	*uvp = uv;
	*stampp = (appid == 0);
	return 0;
}

static int
set_wal(struct db *db)
{
	char mode[16] = "";

	if (st_one(db, ST_SET_WAL, "set journal_mode=WAL", DB_NO_ARGS,
	        db_row_text, &(struct db_text){mode, sizeof(mode)}) != 1)
		return -1;
	/* e.g. a file system without shared memory: still usable. */
	if (strcmp(mode, "wal") != 0)
		log_warn(
		    NULL, "%s: journal_mode is %s, not wal", db->path, mode);
	return 0;
}

/*
 * dir_of(path, out, len): the directory holding ${path} ("." for a bare
 * name), where SQLite keeps the journal, the WAL and its shared memory and
 * where run_lock keeps the lock.
 */
static void
dir_of(const char *path, char *out, size_t len)
{
	char copy[PATH_MAX];

	util_strlcpy(copy, path, sizeof(copy));
	util_strlcpy(out, dirname(copy), len);
}

/*
 * writable(path):
 * Whether a writer can use the store at ${path}: its directory writable
 * (the WAL, the shared-memory file and the lock are created there) and the
 * file, when it exists, writable too.  0, or -1 with the reason logged,
 * naming the directory or file.
 */
static int
writable(const char *path)
{
	char dir[PATH_MAX];

	dir_of(path, dir, sizeof(dir));
	if (access(dir, W_OK | X_OK) != 0) {
		log_err(NULL,
		    "%s: the store's directory %s is not writable (%s): aksnap "
		    "keeps the store's lock, journal and WAL there; nothing "
		    "done",
		    path, dir, strerror(errno));
		last_failure_unusable = 1;
		return -1;
	}
	if (access(path, F_OK) == 0 && access(path, W_OK) != 0) {
		log_err(NULL,
		    "%s: the store is not writable (%s); nothing done", path,
		    strerror(errno));
		last_failure_unusable = 1;
		return -1;
	}
	return 0;
}

/*
 * immutable_uri(path, out, len):
 * "file:<path>?immutable=1", with the characters SQLite's URI parser
 * reads ('%', '?', '#') percent-encoded.  0, or -1 when it does not fit.
 */
static int
immutable_uri(const char *path, char *out, size_t len)
{
	size_t k = 0;

	k = (size_t)snprintf(out, len, "file:");
	for (const char *p = path; *p != '\0'; p++) {
		if (k + 4 >= len)
			return -1;
		if (*p == '%' || *p == '?' || *p == '#')
			k += (size_t)snprintf(
			    out + k, len - k, "%%%02X", (unsigned char)*p);
		else
			out[k++] = *p;
	}
	out[k] = '\0';
	return util_strlcpy(out + k, "?immutable=1", len - k) < len - k ? 0
	                                                                : -1;
}

/*
 * open_conn(db, path, migrating):
 * Open the connection.  A writer (${migrating}) opens read-write, creating
 * the file.  A reader opens read-write when it can (SQLite's WAL wants its
 * -shm file); mode=ro when only the file is read-only; and immutable=1
 * when the directory is not writable either: a WAL store cannot be opened
 * otherwise (no -shm can be created there), and nobody can be writing it
 * (no writer opens a store in such a directory, see writable()).  0 or -1
 * (logged).
 */
/* What a statement's journal may hold in memory (the essay above). */
#define DB_STMTJRNL_SPILL (120 * 1024)

static int
open_conn(struct db *db, const char *path, int migrating)
{
	char dir[PATH_MAX], uri[PATH_MAX * 3 + 32];
	const char *name = path;
	int flags, rc;

	/* before SQLite's first use in the process (later: SQLITE_MISUSE,
	 * nothing changes) */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	(void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, DB_STMTJRNL_SPILL);
	dir_of(path, dir, sizeof(dir));
	if (migrating) {
		flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	} else if (access(dir, W_OK | X_OK) != 0 && access(path, R_OK) == 0) {
		if (immutable_uri(path, uri, sizeof(uri))) {
			log_err(NULL, "%s: path too long", path);
			return -1;
		}
		name = uri;
		flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
	} else if (access(path, F_OK) == 0 && access(path, W_OK) != 0) {
		flags = SQLITE_OPEN_READONLY;
	} else {
		flags = SQLITE_OPEN_READWRITE;
	}
	/*
	 * No connection mutex: aksnap uses a connection from one thread only,
	 * and SQLite's serialized mode took and gave back a mutex on every
	 * sqlite3_column_* and step call (a seventh of the instructions of
	 * `list` over 130,000 rows).
	 */
	rc =
	    sqlite3_open_v2(name, &db->conn, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (db->conn == NULL)
			log_err(NULL, "%s: cannot open: %s", path,
			    sqlite3_errstr(rc));
		else
			db_fail(db, "cannot open");
		return -1;
	}
	return 0;
}

/*
 * report_unsound(path, what, r):
 * Log the problems of ${r} found in ${path} (at most 10) and a summary
 * saying ${what} was refused.
 */
static void
report_unsound(const char *path, const char *what, struct db_check_report *r)
{
	for (size_t i = 0; i < r->n && i < 10; i++)
		log_err(NULL, "%s: %s: %s", path, r->items[i].kind,
		    r->items[i].detail);
	log_err(NULL, "%s: fails its integrity check (%zu problem%s%s); %s",
	    path, r->n, r->n == 1 ? "" : "s", r->truncated ? " or more" : "",
	    what);
}

/*
 * refuse_if_unsound(db):
 * The check every writer passes before its first write (DESIGN.md
 * section 5): PRAGMA quick_check and the cheap invariants, unless the
 * stamp the last clean writer left says the file is exactly as it was
 * then and that check is less than a day old (db_check.h).  0 when sound;
 * -1 (each problem logged, with what to do) when not.
 */
static int
refuse_if_unsound(struct db *db)
{
	struct db_check_report r;
	time_t now = time(NULL);

	if (db_check_stamp_fresh(db->path, now, &db->checked_at)) {
		db_check_count(1);
		return 0;
	}
	db_check_count(0);
	db_check_stamp_remove(db->path);
	if (db_check_quick(db, &r))
		return -1;
	if (r.n == 0) {
		db->checked_at = now;
		return 0;
	}
	report_unsound(db->path,
	    "refusing to write to it, nothing done: see `aksnap db check`, "
	    "restore a backup and run `aksnap sync`",
	    &r);
	db_check_report_free(&r);
	last_failure_unusable = 1;
	return -1;
}

static int
open_store(const char *path, const struct migration *m, size_t n, int migrating,
    struct db **out)
{
	struct db *db = NULL;
	char err[256];
	int64_t uv = 0;
	int stamp = 0;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (db == NULL) {
		log_err(NULL, "%s: out of memory", path);
		goto err0;
	}
	if (util_strlcpy(db->path, path, sizeof(db->path)) >=
	    sizeof(db->path)) {
		log_err(NULL, "%s: path too long", path);
		goto err1;
	}
	last_failure_busy = 0;
	last_failure_unusable = 0;
	if (migrating && writable(path))
		goto err1;
	if (open_conn(db, path, migrating))
		goto err1;
	(void)sqlite3_rollback_hook(db->conn, text_memo_rollback, db);
	db_set_busy_timeout(db, DB_BUSY_TIMEOUT_MS);

	/* Nothing above or in check_ours or the checks writes to the file. */
	if (check_ours(db, latest_of(m, n), migrating, &uv, &stamp))
		goto err1;
	/* A writer first proves the store sound (a migration writes too). */
	if (migrating && refuse_if_unsound(db))
		goto err1;

	if (migrating && set_wal(db))
		goto err1;
	/* Damage met on a page read is an error, not a wrong answer. */
	if (exec_sql(db, "PRAGMA synchronous = NORMAL", err, sizeof(err)) ||
	    exec_sql(db, "PRAGMA cell_size_check = ON", err, sizeof(err)) ||
	    exec_sql(db, "PRAGMA cache_size = -4096", err, sizeof(err)) ||
	    exec_sql(db, "PRAGMA mmap_size = 0", err, sizeof(err)) ||
	    exec_sql(db, "PRAGMA foreign_keys = ON", err, sizeof(err))) {
		log_err(NULL, "%s: set pragmas: %s", path, err);
		goto err1;
	}
	if (migrating && uv < latest_of(m, n) && migrate(db, m, n, stamp))
		goto err1;

	db->writer = migrating;
	*out = db;
	return 0;

err1:
	db_close(db);
err0:
	return -1;
}

int
db_open_with_migrations(
    const char *path, const struct migration *m, size_t n, struct db **out)
{
	return open_store(path, m, n, 1, out);
}

int
db_open(const char *path, struct db **out)
{
	return open_store(path, migrations, migrations_count, 1, out);
}

int
db_open_nomigrate(const char *path, struct db **out)
{
	return open_store(path, migrations, migrations_count, 0, out);
}

void
db_close(struct db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(db->st[i]);
	db_stmts_free(db->stmts);
	text_memo_clear(db);
	free(db->memo);
	if (db->conn != NULL && sqlite3_close(db->conn) != SQLITE_OK) {
		log_err(
		    NULL, "%s: close: %s", db->path, sqlite3_errmsg(db->conn));
	} else if (db->writer && !db->damaged && db->checked_at != 0) {
		/* Closed cleanly: the file as this writer leaves it. */
		(void)db_check_stamp_write(db->path, db->checked_at);
	}
	free(db);
}

int
db_schema_version(struct db *db)
{
	int64_t uv;

	if (st_int(db, ST_USER_VERSION, "read user_version", &uv))
		return -1;
	return (int)uv;
}

void
db_set_busy_timeout(struct db *db, int ms)
{
	db->busy_ms = ms;
	sqlite3_busy_timeout(db->conn, ms);
}

/*
 * verify_copy(db, dest):
 * Open the backup just written as a store (application_id, user_version
 * equal to the source's) and run the full check on it.  0, or -1 (logged).
 */
static int
verify_copy(struct db *db, const char *dest)
{
	struct db *copy = NULL;
	struct db_check_report r;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (open_store(dest, migrations, migrations_count, 0, &copy))
		goto out;
	if (db_schema_version(copy) != db_schema_version(db)) {
		log_err(NULL, "%s: backup: user_version %d, the store's is %d",
		    dest, db_schema_version(copy), db_schema_version(db));
		goto out;
	}
	if (db_check_full(copy, &r))
		goto out;
	if (r.n > 0) {
		report_unsound(dest, "the backup is not usable", &r);
		goto out;
	}
	rc = 0;
out:
	db_check_report_free(&r);
	db_close(copy);
	return rc;
}

int
db_vacuum(struct db *db, long long *before, long long *after)
{
	char err[512] = "";

	if (store_bytes(db, 0, before))
		return -1;
	if (exec_sql(db, "VACUUM", err, sizeof(err)) ||
	    exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)", err, sizeof(err))) {
		if (err[0] != '\0')
			log_err(NULL, "%s: vacuum: %s", db->path, err);
		return -1;
	}
	return store_bytes(db, 0, after);
}

int
db_backup(struct db *db, const char *dest)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	struct db_check_report r;
	int fd, rc;

	/* A copy of a damaged store would only look like a good backup. */
	if (db_check_full(db, &r))
		return -1;
	if (r.n > 0) {
		report_unsound(db->path,
		    "refusing to back it up (a copy would carry the damage)",
		    &r);
		db_check_report_free(&r);
		return -1;
	}
	db_check_report_free(&r);

	/* O_EXCL: never overwrite, even a file that appears meanwhile. */
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		log_err(NULL, "%s: backup: %s", dest, strerror(errno));
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_err(NULL, "%s: backup: %s", dest,
		    dst != NULL ? sqlite3_errmsg(dst) : "out of memory");
		goto err1;
	}
	b = sqlite3_backup_init(dst, "main", db->conn, "main");
	if (b == NULL) {
		log_err(NULL, "%s: backup of %s: %s", dest, db->path,
		    sqlite3_errmsg(dst));
		goto err1;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			log_err(NULL, "%s: backup of %s: database is locked",
			    dest, db->path);
		else
			log_err(NULL, "%s: backup of %s: %s", dest, db->path,
			    sqlite3_errstr(rc));
		goto err1;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		log_err(NULL, "%s: backup: %s", dest, sqlite3_errmsg(dst));
		goto err1;
	}
	dst = NULL;
	if (verify_copy(db, dest))
		goto err1;
	return 0;

err1:
	sqlite3_close(dst);
	unlink(dest);
	return -1;
}

int
db_begin(struct db *db)
{
	return st_run(db, ST_BEGIN, "begin");
}

int
db_commit(struct db *db)
{
	return st_run(db, ST_COMMIT, "commit");
}

int
db_rollback(struct db *db)
{
	/* Fine in a cleanup ladder where the transaction may not be open. */
	if (sqlite3_get_autocommit(db->conn))
		return 0;
	return st_run(db, ST_ROLLBACK, "rollback");
}

/* A row (state, count) into the long long[DB_SNAPSHOT_NSTATES] ${ctx}. */
static int
row_state_count(void *ctx, sqlite3_stmt *s)
{
	long long *counts = ctx;
	char state[16];

	db_col_text(s, 0, state, sizeof(state));
	for (int i = 0; db_snapshot_states[i] != NULL; i++)
		if (strcmp(db_snapshot_states[i], state) == 0)
			counts[i] = sqlite3_column_int64(s, 1);
	return 0;
}

/* ST_COUNTS's row into the struct db_counts ${ctx}. */
static int
row_counts(void *ctx, sqlite3_stmt *s)
{
	struct db_counts *out = ctx;

	out->pools = sqlite3_column_int64(s, 0);
	out->observations = sqlite3_column_int64(s, 1);
	out->snapshots = sqlite3_column_int64(s, 2);
	out->runs = sqlite3_column_int64(s, 3);
	out->decisions = sqlite3_column_int64(s, 4);
	return 0;
}

int
db_counts(struct db *db, struct db_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (st_one(db, ST_COUNTS, "count rows", DB_NO_ARGS, row_counts, out) !=
	    1)
		return -1;
	if (st_each(db, ST_COUNT_STATES, "count snapshots by state", DB_NO_ARGS,
	        row_state_count, out->snapshots_by_state) < 0)
		return -1;
	return 0;
}

/* ---- runs ---- */

int
db_run_start(struct db *db, time_t started_at, time_t as_of, const char *mode,
    int64_t *run_id)
{

	if (!in_list(run_modes, mode)) {
		log_err(NULL, "%s: run: unknown mode \"%s\"", db->path,
		    mode != NULL ? mode : "");
		return -1;
	}
	if (st_set(db, ST_RUN_START, "record run",
	        DB_ARGS(DB_INT(started_at),
	            DB_INT(as_of != 0 ? as_of : started_at), DB_TEXT(mode),
	            DB_INT(getpid())),
	        0))
		return -1;
	*run_id = sqlite3_last_insert_rowid(db->conn);
	return 0;
}

int
db_run_finish(struct db *db, const struct db_run *run)
{

	return st_set(db, ST_RUN_FINISH, "finish run",
	    DB_ARGS(DB_INT(run->id),
	        DB_INT(run->finished_at != 0 ? run->finished_at : util_now()),
	        DB_INT(run->exit_code), DB_INT(run->observed),
	        DB_INT(run->taken), DB_INT(run->skipped), DB_INT(run->deleted),
	        DB_INT(run->promoted), DB_INT(run->failed)),
	    1);
}

int
db_run_last(struct db *db, const char *mode, struct db_run *out)
{
	if (mode == NULL)
		return st_one(db, ST_RUN_LAST_ANY, "last run", DB_NO_ARGS,
		    db_row_run, out);
	return st_one(db, ST_RUN_LAST_MODE, "last run", DB_ARGS(DB_TEXT(mode)),
	    db_row_run, out);
}

/* ---- pools ---- */

/* A pool's key, place and ARM id as ?1..?6 (ST_POOL_SAME, ST_POOL_SYNC). */
static int
bind_pool(sqlite3_stmt *s, const struct pool_conf *pc, const char *arm_id)
{
	int b = 0;

	b |= bind_text(s, 1, pc->key);
	b |= bind_text(s, 2, pc->subscription);
	b |= bind_text(s, 3, pc->resource_group);
	b |= bind_text(s, 4, pc->cluster);
	b |= bind_text(s, 5, pc->nodepool);
	b |= bind_text(s, 6, arm_id);
	return b;
}

int
db_pool_sync(struct db *db, const struct pool_conf *pc, int64_t *pool_id)
{
	char arm_id[512];
	sqlite3_stmt *s;
	int b = 0, rc = -1;

	if ((size_t)snprintf(arm_id, sizeof(arm_id),
	        "/subscriptions/%s/resourceGroups/%s/providers/"
	        "Microsoft.ContainerService/managedClusters/%s/agentPools/%s",
	        pc->subscription, pc->resource_group, pc->cluster,
	        pc->nodepool) >= sizeof(arm_id)) {
		log_err(pc->key, "%s: pool ARM id too long", db->path);
		return -1;
	}
	/* Unchanged (every run of a steady fleet): read, not rewritten. */
	s = st_get(db, ST_POOL_SAME);
	if (s == NULL)
		return -1;
	b |= bind_pool(s, pc, arm_id);
	rc = b != SQLITE_OK ? -1 : step_row(db, s, "record pool");
	if (rc == 1)
		*pool_id = sqlite3_column_int64(s, 0);
	st_put(db, ST_POOL_SAME, s);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	rc = -1;
	b = 0;
	s = st_get(db, ST_POOL_SYNC);
	if (s == NULL)
		return -1;
	b |= bind_pool(s, pc, arm_id);
	b |= sqlite3_bind_int64(s, 7, util_now());
	if (b != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		db_fail(db, "record pool");
		goto done;
	}
	*pool_id = sqlite3_column_int64(s, 0);
	/* RETURNING: the write is complete only once the statement is done. */
	if (sqlite3_step(s) != SQLITE_DONE) {
		db_fail(db, "record pool");
		goto done;
	}
	rc = 0;
done:
	st_put(db, ST_POOL_SYNC, s);
	return rc;
}

/* A configured pool and its place in the caller's array, sorted by key
 * (byte order, as the pools table's key: BINARY collation). */
struct pool_at {
	const struct pool_conf *pc;
	size_t at;
};

static int
pool_at_cmp(const void *a, const void *b)
{
	const struct pool_at *x = a, *y = b;

	return strcmp(x->pc->key, y->pc->key);
}

/* Column ${i} of ${s} is the text ${want} (a NULL column is not). */
static int
col_is(sqlite3_stmt *s, int i, const char *want)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v != NULL && strcmp(v, want) == 0;
}

/* ${*v} starts with ${part} once ASCII A-Z are folded (SQLite's NOCASE,
 * arm_id's collation): *v moved past it. */
static int
nocase_skip(const char **v, const char *part)
{
	const char *p = *v;

	for (; *part != '\0'; p++, part++) {
		unsigned char x = (unsigned char)*p, y = (unsigned char)*part;

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x == '\0' || x != y)
			return 0;
	}
	*v = p;
	return 1;
}

/*
 * Whether row ${s} (key, subscription, resource_group, cluster, nodepool,
 * arm_id) is what db_pool_sync would leave for ${pc}: ST_POOL_SAME's
 * test, in C.  The ARM id is compared piece by piece, not formatted: a
 * fleet's sync does it 10,000 times before its first request.
 */
static int
pool_row_same(sqlite3_stmt *s, const struct pool_conf *pc)
{
	const char *const part[] = {"/subscriptions/", pc->subscription,
	    "/resourceGroups/", pc->resource_group,
	    "/providers/Microsoft.ContainerService/managedClusters/",
	    pc->cluster, "/agentPools/", pc->nodepool};
	const char *v;
	size_t len = 0;

	if (!col_is(s, 1, pc->subscription) ||
	    !col_is(s, 2, pc->resource_group) || !col_is(s, 3, pc->cluster) ||
	    !col_is(s, 4, pc->nodepool))
		return 0;
	for (size_t k = 0; k < sizeof(part) / sizeof(part[0]); k++)
		len += strlen(part[k]);
	if (len >= 512)
		return 0; /* db_pool_sync says why: too long */
	v = (const char *)sqlite3_column_text(s, 5);
	for (size_t k = 0; v != NULL && k < sizeof(part) / sizeof(part[0]); k++)
		if (!nocase_skip(&v, part[k]))
			return 0;
	return v != NULL && *v == '\0';
}

/* The first of ${by_key}'s ${n} pools whose key is ${key}, or ${n}. */
static size_t
first_with_key(const struct pool_at *by_key, size_t n, const char *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(by_key[mid].pc->key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(by_key[lo].pc->key, key) == 0 ? lo : n;
}

int
db_pool_sync_many(
    struct db *db, const struct pool_conf *const *pcs, size_t n, int64_t *ids)
{
	struct pool_at *by_key;
	sqlite3_stmt *s;
	size_t i = 0;
	int rc = SQLITE_DONE, ret = -1;

	/* The pools synced last, no pools row changed since: their ids. */
	rc = db_pool_memo_get(db, pcs, n, ids);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = SQLITE_DONE;
	by_key = calloc(n ? n : 1, sizeof(*by_key));
	if (by_key == NULL) {
		log_err(NULL, "%s: out of memory", db->path);
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		by_key[k].pc = pcs[k];
		by_key[k].at = k;
		ids[k] = 0; /* 0: not in the store as configured */
	}
	qsort(by_key, n, sizeof(*by_key), pool_at_cmp);
	/* In the table's order (no seek from the key index to each row),
	 * each row's key looked up among the configured ones. */
	s = db_stmt(db,
	    "SELECT key, subscription, resource_group, cluster, nodepool, "
	    "arm_id, id FROM pools",
	    "record pools");
	if (s == NULL)
		goto out;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(s, 0);

		if (key == NULL)
			continue;
		for (i = first_with_key(by_key, n, key);
		     i < n && strcmp(by_key[i].pc->key, key) == 0; i++)
			if (pool_row_same(s, by_key[i].pc))
				ids[by_key[i].at] = sqlite3_column_int64(s, 6);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		db_fail(db, "record pools");
		db_stmt_done(db, s);
		goto out;
	}
	db_stmt_done(db, s);
	/* The new and the changed, once the read is done with. */
	for (size_t k = 0; k < n; k++)
		if (ids[k] == 0 && db_pool_sync(db, pcs[k], &ids[k]))
			goto out;
	ret = db_pool_memo_put(db, pcs, n, ids);
out:
	free(by_key);
	return ret;
}

int
db_pool_set_location(struct db *db, int64_t pool_id, const char *location)
{

	return st_set(db, ST_POOL_LOCATION, "set pool location",
	    DB_ARGS(DB_INT(pool_id), DB_OPT(location), DB_INT(util_now())), 0);
}

int
db_pool_get(struct db *db, const char *key, struct db_pool *out)
{
	return st_one(db, ST_POOL_GET, "get pool", DB_ARGS(DB_TEXT(key)),
	    db_row_pool, out);
}

/* ---- observations ---- */

/*
 * DB_VERSIONS(v): the six parameters of a version set (node image,
 * Kubernetes, OS type, OS SKU, VM size as optional texts, FIPS as 0/1),
 * all NULL when ${v} is NULL.
 */
#define DB_VERSIONS(v)                                                         \
	DB_OPT((v) != NULL ? (v)->node_image_version : NULL),                  \
	    DB_OPT((v) != NULL ? (v)->kubernetes_version : NULL),              \
	    DB_OPT((v) != NULL ? (v)->os_type : NULL),                         \
	    DB_OPT((v) != NULL ? (v)->os_sku : NULL),                          \
	    DB_OPT((v) != NULL ? (v)->vm_size : NULL),                         \
	    (v) != NULL ? DB_INT((v)->enable_fips != 0) : DB_SKIP

void
db_col_versions(sqlite3_stmt *s, int first, struct db_versions *v)
{
	db_col_text(
	    s, first, v->node_image_version, sizeof(v->node_image_version));
	db_col_text(
	    s, first + 1, v->kubernetes_version, sizeof(v->kubernetes_version));
	db_col_text(s, first + 2, v->os_type, sizeof(v->os_type));
	db_col_text(s, first + 3, v->os_sku, sizeof(v->os_sku));
	db_col_text(s, first + 4, v->vm_size, sizeof(v->vm_size));
	v->enable_fips = sqlite3_column_int(s, first + 5);
}

/* Read an OBS_COLS row, its first column ${f} (db_internal.h). */
void
db_col_observation(sqlite3_stmt *s, int f, struct db_observation *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(s, f + 0);
	o->pool_id = sqlite3_column_int64(s, f + 1);
	o->run_id = sqlite3_column_int64(s, f + 2);
	db_col_text(s, f + 3, o->pool_key, sizeof(o->pool_key));
	o->observed_at = (time_t)sqlite3_column_int64(s, f + 4);
	db_col_versions(s, f + 5, &o->v);
	db_col_text(
	    s, f + 11, o->provisioning_state, sizeof(o->provisioning_state));
	db_col_text(s, f + 12, o->upgrade_channel, sizeof(o->upgrade_channel));
	db_col_text(s, f + 13, o->node_os_channel, sizeof(o->node_os_channel));
	db_col_text(s, f + 14, o->changed_by, sizeof(o->changed_by));
	o->last_seen = (time_t)sqlite3_column_int64(s, f + 15);
	o->last_run_id = sqlite3_column_int64(s, f + 16);
	o->seen = sqlite3_column_int64(s, f + 17);
}

/* An observation row to a caller's callback (db_history's ${cb}). */
struct obs_each {
	int (*cb)(void *ctx, const struct db_observation *o);
	void *ctx;
};

static int
row_obs_each(void *ctx, sqlite3_stmt *s)
{
	const struct obs_each *e = ctx;
	struct db_observation o;

	db_col_observation(s, 0, &o);
	return e->cb(e->ctx, &o) != 0;
}

int
db_observation_add(struct db *db, int64_t run_id, int64_t pool_id, time_t at,
    const struct db_versions *v, const char *provisioning_state)
{
	return db_observation_record(
	    db, run_id, pool_id, at, v, provisioning_state, NULL);
}

int
db_observation_latest(
    struct db *db, int64_t pool_id, struct db_observation *out)
{
	return st_one(db, ST_OBS_LATEST, "latest observation",
	    DB_ARGS(DB_INT(pool_id)), db_row_observation, out);
}

/*
 * history_pool: db_history for one pool.  0, 1 (stopped by ${cb}) or -1.
 *
 * changes_only reads only the rows marked changed (migration 0011: a
 * trigger decides it at insert, against the row's true predecessor, so a
 * row shown first after ${since} is compared with the one before it), in
 * the order of the partial index observations_changes: the query reads
 * the rows it returns and no others.
 */
static int
history_pool(struct db *db, int64_t pool_id, time_t since, int changes_only,
    int (*cb)(void *ctx, const struct db_observation *o), void *ctx)
{
	struct obs_each e = {cb, ctx};

	return st_each(db, changes_only ? ST_HISTORY_CHANGES : ST_HISTORY,
	    "history", DB_ARGS(DB_INT(pool_id), DB_INT(since)), row_obs_each,
	    &e);
}

int
db_history(struct db *db, int64_t pool_id, time_t since, int changes_only,
    int (*cb)(void *ctx, const struct db_observation *o), void *ctx)
{
	struct obs_each e = {cb, ctx};
	enum st st;

	if (pool_id != 0)
		return history_pool(db, pool_id, since, changes_only, cb, ctx) <
		        0
		    ? -1
		    : 0;
	st = changes_only ? ST_HISTORY_CHANGES_ALL : ST_HISTORY_ALL;
	return st_each(db, st, "history", DB_ARGS(DB_INT(0), DB_INT(since)),
	           row_obs_each, &e) < 0
	    ? -1
	    : 0;
}

/* ---- snapshots ---- */

/* Read a SNAP_COLS row, its first column ${f} (db_internal.h). */
void
db_col_snapshot(sqlite3_stmt *s, int f, struct db_snapshot *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(s, f + 0);
	o->pool_id = sqlite3_column_int64(s, f + 1);
	db_col_text(s, f + 2, o->pool_key, sizeof(o->pool_key));
	db_col_text(s, f + 3, o->name, sizeof(o->name));
	db_col_text(s, f + 4, o->arm_id, sizeof(o->arm_id));
	o->slot = (time_t)sqlite3_column_int64(s, f + 5);
	o->created_at = (time_t)sqlite3_column_int64(s, f + 6);
	db_col_versions(s, f + 7, &o->v);
	db_col_text(s, f + 13, o->state, sizeof(o->state));
	o->pinned = sqlite3_column_int(s, f + 14);
	db_col_text(s, f + 15, o->channel, sizeof(o->channel));
	o->promoted_at = (time_t)sqlite3_column_int64(s, f + 16);
	o->demoted_at = (time_t)sqlite3_column_int64(s, f + 17);
	db_col_text(s, f + 18, o->error, sizeof(o->error));
}

int
db_snapshot_intent(struct db *db, int64_t pool_id, const char *name,
    const char *arm_id, time_t slot, time_t now, int64_t *snap_id)
{
	char state[16] = "";
	sqlite3_stmt *s;
	int b = 0, rc, got = 0;

	s = st_get(db, ST_SNAP_INTENT);
	if (s == NULL)
		return -1;
	b |= sqlite3_bind_int64(s, 1, pool_id);
	b |= bind_text(s, 2, name);
	b |= bind_text(s, 3, arm_id);
	b |= bind_opt64(s, 4, slot);
	b |= sqlite3_bind_int64(s, 5, now);
	rc = b != SQLITE_OK ? SQLITE_ERROR : sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*snap_id = sqlite3_column_int64(s, 0);
		got = 1;
		rc = sqlite3_step(s);
	}
	if (rc != SQLITE_DONE) {
		db_fail(db, "record snapshot intent");
		st_put(db, ST_SNAP_INTENT, s);
		return -1;
	}
	st_put(db, ST_SNAP_INTENT, s);
	if (got)
		return 0;

	/* The name is taken by a row that must not be reused: say which. */
	(void)st_one(db, ST_SNAP_STATE_BY_NAME, "record snapshot intent",
	    DB_ARGS(DB_INT(pool_id), DB_TEXT(name)), db_row_text,
	    &(struct db_text){state, sizeof(state)});
	log_err(NULL, "%s: snapshot %s exists already (state %s)", db->path,
	    name, state[0] != '\0' ? state : "unknown");
	return -1;
}

int
db_snapshot_set_active(
    struct db *db, int64_t id, time_t created_at, const struct db_versions *v)
{

	return st_set(db, ST_SNAP_ACTIVE, "set snapshot active",
	    DB_ARGS(DB_INT(id), DB_INT(created_at), DB_VERSIONS(v),
	        DB_INT(util_now())),
	    1);
}

int
db_snapshot_set_state(
    struct db *db, int64_t id, const char *state, const char *error)
{

	if (!in_list(db_snapshot_states, state)) {
		log_err(NULL, "%s: snapshot %lld: unknown state \"%s\"",
		    db->path, (long long)id, state != NULL ? state : "");
		return -1;
	}
	return st_set(db, ST_SNAP_SET_STATE, "set snapshot state",
	    DB_ARGS(
	        DB_INT(id), DB_TEXT(state), DB_OPT(error), DB_INT(util_now())),
	    1);
}

int
db_snapshot_set_pinned(struct db *db, int64_t id, int pinned)
{

	return st_set(db, ST_SNAP_PINNED, "set snapshot pinned",
	    DB_ARGS(DB_INT(id), DB_INT(pinned != 0), DB_INT(util_now())), 1);
}

/* The channel history lives in db_ladder.c (snapshot_channels). */
int
db_snapshot_set_channel(
    struct db *db, int64_t id, const char *channel, time_t at)
{
	if (channel == NULL || channel[0] == '\0')
		return db_ladder_leave(db, id, NULL, at, 0);
	return db_ladder_enter(db, id, channel, 0, at);
}

int
db_snapshot_get(struct db *db, int64_t id, struct db_snapshot *out)
{
	return st_one(db, ST_SNAP_GET, "get snapshot", DB_ARGS(DB_INT(id)),
	    db_row_snapshot, out);
}

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* The rows of ST_SNAP_BY_NAME (the newest two) for db_snapshot_find. */
struct by_name {
	struct db *db;
	const char *ref;
	struct db_snapshot *out;
	int n;
};

static int
row_by_name(void *ctx, sqlite3_stmt *s)
{
	struct by_name *b = ctx;
	struct db_snapshot other;

	if (b->n++ == 0) {
		db_col_snapshot(s, 0, b->out);
		return 0;
	}
	db_col_snapshot(s, 0, &other);
	log_warn(NULL,
	    "%s: snapshot name %s is used in several pools "
	    "(%s, %s, ...); taking the newest (%s); give the "
	    "ARM id to choose",
	    b->db->path, b->ref, b->out->pool_key, other.pool_key,
	    b->out->pool_key);
	return 1;
}

/*
 * By numeric id, then ARM id, then name.  A name is unique per pool but not
 * across pools; when several pools have it, the newest snapshot wins and a
 * warning says to use the ARM id.
 */
int
db_snapshot_find(struct db *db, const char *ref, struct db_snapshot *out)
{
	struct by_name b = {db, ref, NULL, 0};
	int found;

	if (all_digits(ref) && strlen(ref) < 19) {
		found = db_snapshot_get(db, strtoll(ref, NULL, 10), out);
		if (found != 0)
			return found;
	}
	found = st_one(db, ST_SNAP_BY_ARM_ID, "find snapshot",
	    DB_ARGS(DB_TEXT(ref)), db_row_snapshot, out);
	if (found != 0)
		return found;
	b.out = out;
	if (st_each(db, ST_SNAP_BY_NAME, "find snapshot", DB_ARGS(DB_TEXT(ref)),
	        row_by_name, &b) < 0)
		return -1;
	return b.n > 0;
}

int
db_snapshot_list(struct db *db, int64_t pool_id, const char *state,
    struct db_snapshot **out, size_t *n)
{
	struct db_rows rows = DB_ROWS(sizeof(**out));
	enum st id;
	int rc;

	if (pool_id != 0 && state != NULL && strcmp(state, "active") == 0)
		id = ST_SNAP_LIST_POOL_ACTIVE;
	else if (pool_id != 0)
		id =
		    state != NULL ? ST_SNAP_LIST_POOL_STATE : ST_SNAP_LIST_POOL;
	else
		id = state != NULL ? ST_SNAP_LIST_STATE : ST_SNAP_LIST_ALL;
	/* ?1 the pool, ?2 the state: each only in the statements using it */
	rc = st_all(db, id, "list snapshots",
	    DB_ARGS(pool_id != 0 ? DB_INT(pool_id) : DB_SKIP,
	        state != NULL && id != ST_SNAP_LIST_POOL_ACTIVE ? DB_TEXT(state)
	                                                        : DB_SKIP),
	    db_row_snapshot, &rows);
	*out = rows.v;
	*n = rows.n;
	return rc;
}

int
db_snapshot_newest_active(
    struct db *db, int64_t pool_id, struct db_snapshot *out)
{
	return st_one(db, ST_SNAP_NEWEST_ACTIVE, "newest active snapshot",
	    DB_ARGS(DB_INT(pool_id)), db_row_snapshot, out);
}

int
db_snapshot_channel(struct db *db, int64_t pool_id, const char *channel,
    struct db_snapshot *out)
{
	return st_one(db, ST_SNAP_CHANNEL, "channel snapshot",
	    DB_ARGS(DB_INT(pool_id), DB_TEXT(channel)), db_row_snapshot, out);
}

int
db_snapshot_adopt(struct db *db, int64_t pool_id, const struct db_snapshot *s,
    int64_t *snap_id)
{
	const char *state = s->state[0] != '\0' ? s->state : "active";
	time_t now = util_now();

	if (!in_list(db_snapshot_states, state)) {
		log_err(NULL, "%s: adopt %s: unknown state \"%s\"", db->path,
		    s->name, state);
		return -1;
	}
	if (st_set(db, ST_SNAP_ADOPT, "adopt snapshot",
	        DB_ARGS(DB_INT(pool_id), DB_TEXT(s->name), DB_TEXT(s->arm_id),
	            DB_OPT_INT(s->slot),
	            DB_INT(s->created_at != 0 ? s->created_at : now),
	            DB_VERSIONS(&s->v), DB_TEXT(state), DB_INT(s->pinned != 0),
	            DB_OPT(s->channel),
	            s->channel[0] != '\0'
	                ? DB_INT(s->promoted_at != 0 ? s->promoted_at : now)
	                : DB_SKIP,
	            DB_OPT(s->error), DB_INT(now)),
	        0))
		return -1;
	*snap_id = sqlite3_last_insert_rowid(db->conn);
	if (s->channel[0] != '\0' &&
	    db_ladder_adopt(db, *snap_id, s->channel,
	        s->promoted_at != 0 ? s->promoted_at : now))
		return -1;
	return 0;
}

int
db_slot_taken(struct db *db, int64_t pool_id, time_t slot)
{
	sqlite3_stmt *s;
	int b, taken = -1;

	s = st_get(db, ST_SLOT_TAKEN);
	if (s == NULL)
		return -1;
	b = sqlite3_bind_int64(s, 1, pool_id);
	b |= sqlite3_bind_int64(s, 2, slot);
	if (b == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		taken = sqlite3_column_int(s, 0) != 0;
	else
		db_fail(db, "is slot taken");
	st_put(db, ST_SLOT_TAKEN, s);
	return taken;
}

/* ---- reporting ---- */

int
db_runs_failed(struct db *db, long long *n)
{
	int64_t v = 0;

	if (st_int(db, ST_RUNS_FAILED, "count failed runs", &v))
		return -1;
	*n = (long long)v;
	return 0;
}

int
db_pool_last_success(struct db *db, int64_t pool_id, time_t *at)
{
	sqlite3_stmt *s;
	int rc = -1;

	s = st_get(db, ST_POOL_LAST_SUCCESS);
	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1, pool_id) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		*at = (time_t)sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		db_fail(db, "last success of a pool");
	}
	st_put(db, ST_POOL_LAST_SUCCESS, s);
	return rc;
}

int
db_pool_snapshot_counts(
    struct db *db, int64_t pool_id, long long counts[DB_SNAPSHOT_NSTATES])
{
	for (int i = 0; i < DB_SNAPSHOT_NSTATES; i++)
		counts[i] = 0;
	if (st_each(db, ST_POOL_SNAP_COUNTS, "count a pool's snapshots",
	        DB_ARGS(DB_INT(pool_id)), row_state_count, counts) < 0)
		return -1;
	return 0;
}

/* db_promoted_history's ids, at most ${max}. */
struct id_list {
	int64_t *ids;
	size_t max, *n;
};

static int
row_id(void *ctx, sqlite3_stmt *s)
{
	struct id_list *l = ctx;

	if (*l->n < l->max)
		l->ids[(*l->n)++] = sqlite3_column_int64(s, 0);
	return 0;
}

int
db_promoted_history(
    struct db *db, int64_t pool_id, int64_t *ids, size_t max, size_t *n)
{
	struct id_list l = {ids, max, n};

	*n = 0;
	if (st_each(db, ST_PROMOTED_HISTORY, "list a pool's promoted snapshots",
	        DB_ARGS(DB_INT(pool_id), DB_INT(max)), row_id, &l) < 0)
		return -1;
	return 0;
}

int
db_decision_last(struct db *db, int64_t snapshot_id, struct db_decision *out)
{
	sqlite3_stmt *s;
	int found = -1;

	s = st_get(db, ST_DEC_LAST);
	if (s == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (sqlite3_bind_int64(s, 1, snapshot_id) != SQLITE_OK)
		found = db_fail(db, "last decision of a snapshot");
	else
		found = step_row(db, s, "last decision of a snapshot");
	if (found == 1) {
		out->snapshot_id = snapshot_id;
		db_col_text(s, 0, out->action, sizeof(out->action));
		db_col_text(s, 1, out->reasons, sizeof(out->reasons));
		db_col_text(s, 2, out->fingerprint, sizeof(out->fingerprint));
	}
	st_put(db, ST_DEC_LAST, s);
	return found;
}

/* ---- decisions ---- */

/*
 * The last decision about what ${d} is about, in decision_rows (its
 * subject has no open range): -1 on error, 0 when there is none, 1 when
 * it says the same (action, reasons, fingerprint), 2 when it differs;
 * its id and time in ${id} and ${at}.
 */
static int
decision_last_row(
    struct db *db, const struct db_decision *d, int64_t *id, time_t *at)
{
	enum st which = d->snapshot_id != 0 ? ST_DEC_LAST : ST_DEC_LAST_POOL;
	sqlite3_stmt *s;
	int found;

	s = st_get(db, which);
	if (s == NULL)
		return -1;
	if (sqlite3_bind_int64(s, 1,
	        d->snapshot_id != 0 ? d->snapshot_id : d->pool_id) != SQLITE_OK)
		found = db_fail(db, "last decision");
	else
		found = step_row(db, s, "last decision");
	if (found == 1) {
		found = text_eq(s, 0, d->action) && text_eq(s, 1, d->reasons) &&
		        text_eq(s, 2, d->fingerprint)
		    ? 1
		    : 2;
		*id = sqlite3_column_int64(s, 3);
		*at = (time_t)sqlite3_column_int64(s, 4);
	}
	st_put(db, which, s);
	return found;
}

/*
 * The ids of the decision texts a run names, remembered: it decides
 * about each of a pool's live snapshots every run (a dozen after a few
 * months) with one of a handful of texts the whole fleet shares, and
 * looking the texts up in decision_texts for each decision was nearly
 * half of ST_DEC_SAME's work (58 of its 131 virtual-machine steps; 13,000
 * times a run over 1,000 pools).  An entry is a text as decision_texts
 * holds it, with its id; only found ids are remembered.  A pool's
 * reasons naming its key are held with char(1) for the key (0015): those
 * are looked up each time, the key being the last pool's (memo_key).
 * The memo is emptied when a text is added (an id a rollback freed and
 * another text took is then never mistaken) and at a rollback;
 * decision_texts rows are never deleted.
 */
struct text_memo {
	int64_t id;
	char *text;
};

#define TEXT_MEMO 32

static void
text_memo_clear(struct db *db)
{
	for (size_t i = 0; i < db->nmemo; i++)
		free(db->memo[i].text);
	db->nmemo = 0;
	db->memo_pool = 0;
}

static void
text_memo_rollback(void *ctx)
{
	text_memo_clear(ctx);
}

/* ${text} with id ${id} into the memo (nothing when memory is short). */
static void
text_memo_add(struct db *db, const char *text, int64_t id)
{
	struct text_memo *m;

	if (db->memo == NULL) {
		db->memo = calloc(TEXT_MEMO, sizeof(*db->memo));
		if (db->memo == NULL)
			return;
	}
	if (db->nmemo == TEXT_MEMO)
		text_memo_clear(db);
	m = &db->memo[db->nmemo];
	m->text = strdup(text);
	if (m->text == NULL)
		return;
	m->id = id;
	db->nmemo++;
}

/*
 * Whether decision_texts holds ${pool_id}'s reasons ${text} as it is:
 * 1 yes, 0 no (it names the pool's key, or the key is too long to
 * tell), -1 on error.
 */
static int
text_as_is(struct db *db, const char *text, int64_t pool_id)
{
	int rc;

	if (db->memo_pool != pool_id) {
		db->memo_pool = 0;
		rc = st_one(db, ST_POOL_KEY_OF, "find a pool's key",
		    DB_ARGS(DB_INT(pool_id)), db_row_text,
		    &(struct db_text){db->memo_key, sizeof(db->memo_key)});
		if (rc < 0)
			return -1;
		if (rc == 0)
			db->memo_key[0] = '\0'; /* no pool: no key (as SQL) */
		else if (strlen(db->memo_key) + 1 >= sizeof(db->memo_key))
			return 0; /* maybe cut: ask SQL */
		db->memo_pool = pool_id;
	}
	return db->memo_key[0] == '\0' || strstr(text, db->memo_key) == NULL;
}

/*
 * text_id(db, text, pool_id, id):
 * The id in decision_texts of ${text} (${pool_id}'s reasons, or 0: a
 * fingerprint) into ${id}: 1 when it has one, 0 when it has none (the
 * empty text never has), -1 on error.
 */
static int
text_id(struct db *db, const char *text, int64_t pool_id, int64_t *id)
{
	int as_is = 1, rc;

	*id = 0;
	if (text[0] == '\0')
		return 0;
	if (pool_id != 0) {
		as_is = text_as_is(db, text, pool_id);
		if (as_is < 0)
			return -1;
	}
	if (as_is)
		for (size_t i = 0; i < db->nmemo; i++)
			if (strcmp(db->memo[i].text, text) == 0) {
				*id = db->memo[i].id;
				return 1;
			}
	rc = st_one(db, ST_DEC_TEXT_ID, "find decision text",
	    DB_ARGS(DB_TEXT(text), DB_OPT_INT(as_is ? 0 : pool_id)),
	    db_row_int64, id);
	if (rc != 1)
		return rc < 0 ? -1 : 0;
	if (*id == 0)
		return 0;
	if (as_is)
		text_memo_add(db, text, *id);
	return 1;
}

/*
 * decision_text_add(db, text, pool_id):
 * ${text} into decision_texts unless it is there or empty: a reasons text
 * of pool ${pool_id} with the pool's key as char(1), a fingerprint (0) as
 * it is.  0/-1.
 */
static int
decision_text_add(struct db *db, const char *text, int64_t pool_id)
{

	if (text[0] == '\0')
		return 0;
	text_memo_clear(db);
	return st_set(db, ST_DEC_TEXT, "record decision text",
	    DB_ARGS(DB_TEXT(text), DB_OPT_INT(pool_id)), 0);
}

/*
 * ${d} is the same as its subject's open decision (0018): 1 when that
 * range grew to ${d}'s run (no row of decision_rows written), 0 when
 * there is no open range or it says something else, -1 on error.  A text
 * decision_texts does not hold is no open range's.
 */
static int
decision_extend_open(struct db *db, const struct db_decision *d)
{
	int64_t reasons = 0, fingerprint = 0;
	int r, f;

	r = text_id(db, d->reasons, d->pool_id, &reasons);
	if (r < 0)
		return -1;
	f = text_id(db, d->fingerprint, 0, &fingerprint);
	if (f < 0)
		return -1;
	if ((r == 0 && d->reasons[0] != '\0') ||
	    (f == 0 && d->fingerprint[0] != '\0'))
		return 0;
	if (st_set(db, ST_DEC_SAME, "extend decision",
	        DB_ARGS(DB_INT(d->pool_id), DB_INT(d->snapshot_id),
	            DB_TEXT(d->action), DB_OPT_INT(reasons),
	            DB_OPT_INT(fingerprint), DB_OPT_INT(d->run_id),
	            DB_INT(d->at), DB_OPT_INT(d->slot)),
	        0))
		return -1;
	return sqlite3_changes(db->conn) == 1;
}

/* The open range of ${d}'s subject, if any, ends (0018).  0/-1. */
static int
decision_close(struct db *db, const struct db_decision *d)
{

	return st_set(db, ST_DEC_CLOSE, "close decision range",
	    DB_ARGS(DB_INT(d->pool_id), DB_INT(d->snapshot_id)), 0);
}

/*
 * Decision ${id} becomes the open one of ${d}'s subject, its range ending
 * at ${d}'s run ${st}: ST_DEC_OPEN, or ST_DEC_EXTEND for a row that
 * cannot be open (reasons inline) or whose subject is done with (0018).
 * 0/-1.
 */
static int
decision_open(
    struct db *db, enum st st, int64_t id, const struct db_decision *d)
{

	return st_set(db, st,
	    st == ST_DEC_OPEN ? "open decision range" : "extend decision",
	    DB_ARGS(DB_INT(id), DB_OPT_INT(d->run_id), DB_INT(d->at),
	        DB_OPT_INT(d->slot)),
	    1);
}

int
db_decision_add(struct db *db, const struct db_decision *d)
{
	int64_t last = 0;
	time_t last_at = 0;
	int last_is, inline_reasons, openable;

	if (!in_list(decision_actions, d->action)) {
		log_err(NULL, "%s: decision: unknown action \"%s\"", db->path,
		    d->action);
		return -1;
	}
	/* a text holding the key's stand-in itself stays inline */
	inline_reasons = strchr(d->reasons, '\1') != NULL;
	/* a snapshot found missing is decided about no more: its range
	 * would stay open for good */
	openable = !inline_reasons &&
	    !(d->snapshot_id != 0 && strcmp(d->action, "missing") == 0);
	if (!inline_reasons) {
		int same = decision_extend_open(db, d);

		if (same != 0)
			return same < 0 ? -1 : 0;
	}
	/* something else, or nothing open: the rows say what was last */
	if (decision_close(db, d))
		return -1;
	last_is = decision_last_row(db, d, &last, &last_at);
	if (last_is < 0)
		return -1;
	if (last_is == 1)
		return decision_open(
		    db, openable ? ST_DEC_OPEN : ST_DEC_EXTEND, last, d);
	if ((!inline_reasons &&
	        decision_text_add(db, d->reasons, d->pool_id) != 0) ||
	    decision_text_add(db, d->fingerprint, 0) != 0)
		return -1;
	if (st_set(db, ST_DEC_ADD, "record decision",
	        DB_ARGS(DB_OPT_INT(d->run_id), DB_INT(d->pool_id),
	            DB_OPT_INT(d->snapshot_id), DB_INT(d->at),
	            DB_OPT_INT(d->slot), DB_TEXT(d->action),
	            DB_OPT(inline_reasons ? d->reasons : NULL),
	            DB_OPT(inline_reasons ? NULL : d->reasons),
	            DB_OPT(d->fingerprint)),
	        0))
		return -1;
	/* the newest (at, then id) is the one a next decision compares
	 * with: a run --as-of before the last decision leaves it closed */
	if (!openable || (last_is == 2 && d->at < last_at))
		return 0;
	return decision_open(
	    db, ST_DEC_OPEN, sqlite3_last_insert_rowid(db->conn), d);
}

/*
 * A row of ST_DEC_LIST or ST_DEC_EXPLAIN into ${d}: columns 0..10 as
 * both select them, the range's last run, time and slot from ${last}.
 */
static void
col_decision(sqlite3_stmt *s, int last, struct db_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(s, 0);
	d->run_id = sqlite3_column_int64(s, 1);
	d->pool_id = sqlite3_column_int64(s, 2);
	d->snapshot_id = sqlite3_column_int64(s, 3);
	db_col_text(s, 4, d->pool_key, sizeof(d->pool_key));
	db_col_text(s, 5, d->snapshot_name, sizeof(d->snapshot_name));
	d->at = (time_t)sqlite3_column_int64(s, 6);
	d->slot = (time_t)sqlite3_column_int64(s, 7);
	db_col_text(s, 8, d->action, sizeof(d->action));
	db_col_text(s, 9, d->reasons, sizeof(d->reasons));
	db_col_text(s, 10, d->fingerprint, sizeof(d->fingerprint));
	d->last_run_id = sqlite3_column_int64(s, last);
	d->last_at = (time_t)sqlite3_column_int64(s, last + 1);
	d->last_slot = (time_t)sqlite3_column_int64(s, last + 2);
}

/* The caller's callback of db_decision_list or db_decision_explain. */
struct decision_each {
	int (*cb)(void *ctx, const struct db_decision *d);
	int (*explained)(
	    void *ctx, const struct db_decision *d, const char *run_mode);
	void *ctx;
};

/* A row of ST_DEC_LIST to the callback: 1 (stop) when it says stop. */
static int
row_decision(void *vctx, sqlite3_stmt *s)
{
	struct decision_each *e = vctx;
	struct db_decision d;

	col_decision(s, 11, &d);
	return e->cb(e->ctx, &d) != 0;
}

/* A row of ST_DEC_EXPLAIN, with its run's mode, to the callback. */
static int
row_decision_explained(void *vctx, sqlite3_stmt *s)
{
	struct decision_each *e = vctx;
	struct db_decision d;
	char mode[16];

	col_decision(s, 12, &d);
	db_col_text(s, 11, mode, sizeof(mode));
	return e->explained(e->ctx, &d, mode) != 0;
}

int
db_decision_list(struct db *db, int64_t snapshot_id,
    int (*cb)(void *ctx, const struct db_decision *d), void *ctx)
{
	struct decision_each e = {cb, NULL, ctx};

	return st_each(db, ST_DEC_LIST, "list decisions",
	           DB_ARGS(DB_INT(snapshot_id)), row_decision, &e) < 0
	    ? -1
	    : 0;
}

/* ---- test seam ---- */

static const struct {
	const char *name;
	enum st id;
} plan_names[] = {
    {"history", ST_HISTORY},
    {"history_changes", ST_HISTORY_CHANGES},
    {"history_all", ST_HISTORY_ALL},
    {"history_changes_all", ST_HISTORY_CHANGES_ALL},
    {"latest", ST_OBS_LATEST},
    {"list", ST_SNAP_LIST_POOL},
    {"list_state", ST_SNAP_LIST_POOL_STATE},
    {"list_active", ST_SNAP_LIST_POOL_ACTIVE},
    {"newest_active", ST_SNAP_NEWEST_ACTIVE},
    {"slot_taken", ST_SLOT_TAKEN},
    {"find_name", ST_SNAP_BY_NAME},
    {"find_arm_id", ST_SNAP_BY_ARM_ID},
    {"channel", ST_SNAP_CHANNEL},
    {"decisions", ST_DEC_LIST},
    {"last_decision", ST_DEC_LAST},
    {"last_decision_pool", ST_DEC_LAST_POOL},
    {"snapshots_in_state", ST_SNAP_LIST_STATE},
    {"pool_counts", ST_POOL_SNAP_COUNTS},
    {"last_success", ST_POOL_LAST_SUCCESS},
    {"runs_failed", ST_RUNS_FAILED},
};

int
db_query_plan(struct db *db, const char *name, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(plan_names) / sizeof(plan_names[0]); i++)
		if (strcmp(plan_names[i].name, name) == 0)
			return db_explain(
			    db, st_sql[plan_names[i].id], buf, len);
	log_err(NULL, "%s: no query named %s", db->path, name);
	return -1;
}

int
db_explain(struct db *db, const char *query, char *buf, size_t len)
{
	sqlite3_stmt *s = NULL;
	struct buf sql, out;
	int rc = -1;

	buf_init(&sql, 16384);
	buf_init(&out, len > 0 ? len - 1 : 0);
	if (len > 0)
		buf[0] = '\0';
	if (buf_printf(&sql, "EXPLAIN QUERY PLAN %s", query))
		goto done;
	if (sqlite3_prepare_v2(db->conn, sql.data, -1, &s, NULL) != SQLITE_OK) {
		db_fail(db, "explain");
		goto done;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (buf_printf(
		        &out, "%s\n", (const char *)sqlite3_column_text(s, 3)))
			break;
	rc = rc == SQLITE_DONE ? 0 : -1;
	util_strlcpy(buf, out.data != NULL ? out.data : "", len);
done:
	sqlite3_finalize(s);
	buf_free(&sql);
	buf_free(&out);
	return rc;
}

int
db_pragma_int(struct db *db, const char *name, long long *out)
{
	static const char *const allowed[] = {
	    "cache_size", "mmap_size", "synchronous", "foreign_keys", NULL};
	sqlite3_stmt *s = NULL;
	char sql[64];
	int rc = -1;

	if (!in_list(allowed, name)) {
		log_err(NULL, "%s: no pragma %s to read", db->path, name);
		return -1;
	}
	snprintf(sql, sizeof(sql), "PRAGMA %s", name);
	if (sqlite3_prepare_v2(db->conn, sql, -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		db_fail(db, "read pragma");
		goto done;
	}
	*out = sqlite3_column_int64(s, 0);
	rc = 0;
done:
	sqlite3_finalize(s);
	return rc;
}

/* ---- report commands ---- */

int
db_decision_explain(struct db *db, const struct db_snapshot *snap,
    int (*cb)(void *ctx, const struct db_decision *d, const char *run_mode),
    void *ctx)
{
	struct decision_each e = {NULL, cb, ctx};

	return st_each(db, ST_DEC_EXPLAIN, "explain snapshot",
	           DB_ARGS(DB_INT(snap->id), DB_INT(snap->pool_id),
	               DB_INT(snap->created_at)),
	           row_decision_explained, &e) < 0
	    ? -1
	    : 0;
}

/* ---- for the other db/db_*.c files (db_internal.h) ---- */

sqlite3 *
db_sqlite(struct db *db)
{
	return db->conn;
}

struct db_stmts **
db_stmts_of(struct db *db)
{
	return &db->stmts;
}

const char *
db_obs_cols(void)
{
	return OBS_COLS;
}

const char *
db_obs_cols_bare(void)
{
	return OBS_COLS_OF("NULL");
}

int
db_row_observation(void *ctx, sqlite3_stmt *s)
{
	db_col_observation(s, 0, ctx);
	return 0;
}

int
db_row_run(void *ctx, sqlite3_stmt *s)
{
	struct db_run *out = ctx;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	out->started_at = (time_t)sqlite3_column_int64(s, 1);
	out->finished_at = (time_t)sqlite3_column_int64(s, 2);
	out->as_of = (time_t)sqlite3_column_int64(s, 3);
	db_col_text(s, 4, out->mode, sizeof(out->mode));
	out->exit_code = sqlite3_column_type(s, 5) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(s, 5);
	out->observed = sqlite3_column_int(s, 6);
	out->taken = sqlite3_column_int(s, 7);
	out->skipped = sqlite3_column_int(s, 8);
	out->deleted = sqlite3_column_int(s, 9);
	out->promoted = sqlite3_column_int(s, 10);
	out->failed = sqlite3_column_int(s, 11);
	return 0;
}

int
db_row_pool(void *ctx, sqlite3_stmt *s)
{
	struct db_pool *out = ctx;

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(s, 0);
	db_col_text(s, 1, out->key, sizeof(out->key));
	db_col_text(s, 2, out->subscription, sizeof(out->subscription));
	db_col_text(s, 3, out->resource_group, sizeof(out->resource_group));
	db_col_text(s, 4, out->cluster, sizeof(out->cluster));
	db_col_text(s, 5, out->nodepool, sizeof(out->nodepool));
	db_col_text(s, 6, out->arm_id, sizeof(out->arm_id));
	db_col_text(s, 7, out->location, sizeof(out->location));
	return 0;
}

sqlite3_stmt *
db_prepare(struct db *db, const char *sql, const char *what)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db->conn, sql, -1, &s, NULL) != SQLITE_OK) {
		db_fail(db, what);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

const char *
db_snap_select(void)
{
	return SNAP_COLS;
}

const char *
db_snap_cols(void)
{
	return SNAP_COLUMNS;
}

const char *
db_snap_cols_bare(void)
{
	return SNAP_COLUMNS_OF("NULL", "s.arm_id");
}

int
db_row_snapshot(void *ctx, sqlite3_stmt *s)
{
	db_col_snapshot(s, 0, ctx);
	return 0;
}
