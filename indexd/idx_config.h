/* The daemon's configuration: a table of keys (name, type, bounds, default),
 * read from a JSON config file and then from flags (--key=value or
 * --key value; '-' and '_' are the same in names).  A bad value or an
 * unknown key is refused at start-up with the name of the key. */
#ifndef IDX_CONFIG_H
#define IDX_CONFIG_H

#include <stddef.h>

typedef struct {
    char *zListen;      /* listen */
    long port;
    char *zDataDir;     /* data_dir */
    long shards;
    long threads;
    long maxBodyMb;     /* max_body_mb */
    long commitEvery;   /* commit_every */
    long commitDelayMs; /* commit_delay_ms */
    long facetCheck;    /* facet_check */
    char *zLogLevel;    /* log_level */
    char *zWebDir;      /* web_dir: static files of the web client */
    long sessionHours;  /* session_hours */
    long idleMinutes;   /* session_idle_minutes */
    char *zCategoryNames;      /* category_names: a unit's own 门类 names, 名称=代码,… */
    char *zApprovalCategories; /* approval_categories: 门类 codes, comma separated */
    long approvalClassified;   /* approval_classified */
    long approvalDays;  /* approval_days */
    long cookieSecure;  /* cookie_secure */
    long maxBufferedMb; /* max_buffered_mb */
    long perIpConnections; /* per_ip_connections */
    char *zTrustedProxies; /* trusted_proxies: addresses whose X-Forwarded-For is believed, comma separated */
    char *zRemoteShards;   /* remote_shards: tcp:HOST:PORT,… served by xapian-tcpsrv (instead of local shards) */
    long remoteTimeoutMs;  /* remote_timeout_ms */
    long changesets;       /* changesets: XAPIAN_MAX_CHANGESETS for the local shards (0: none) */
    long readOnly;         /* read_only: serve the index without writing it (a replica) */
} idx_config;

/* Set the defaults. */
int idx_config_init(idx_config *c);
void idx_config_clear(idx_config *c);
/* Apply argv (argv[0] skipped).  --config FILE is read first wherever it
 * stands.  Returns PS_OK, PS_CONFIG with zErr naming the key, or -1 after
 * --help (usage printed). */
int idx_config_load(idx_config *c, int argc, char **argv, char *zErr, size_t nErr);
/* Set one key from text, checking it ("port", "8080"). */
int idx_config_set(idx_config *c, const char *zKey, const char *zVal, char *zErr, size_t nErr);

#endif
