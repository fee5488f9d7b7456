//! `sync-server`: runs Caisse's head-office server. With no configuration it uses a SQLite file
//! under `./data` and loads the demo chain on first start.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use sync_server::{Config, Settings, serve};

/// Caisse sync server: register sync, catalogue, inventory, reports and the head-office API.
/// Without a command it serves.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Tool>,
    /// Address to listen on.
    #[arg(long, env = "CAISSE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// sqlite://PATH (default) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/caisse-server.db", global = true)]
    database_url: String,
    /// Start an empty chain: no demo stores, products or users.
    #[arg(long)]
    no_demo: bool,
    /// Password of the demo's admin user (random when absent; printed on first start).
    #[arg(long, env = "CAISSE_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// Alert when a register's clock is off by more than this many seconds.
    #[arg(long, env = "CAISSE_SKEW_BOUND_SECONDS", default_value_t = 300)]
    skew_bound_seconds: u64,
    /// Database connections in the pool.
    #[arg(long, env = "CAISSE_DB_CONNECTIONS", default_value_t = 16)]
    db_connections: u32,
    /// Largest request body, in MiB.
    #[arg(long, env = "CAISSE_BODY_LIMIT_MIB", default_value_t = 16)]
    body_limit_mib: usize,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, env = "CAISSE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "CAISSE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Most connections open at once; past it new ones are closed at once.
    #[arg(long, env = "CAISSE_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Most connections open at once from one address (an IPv6 /64 counts as one); 0 for no
    /// cap. The --trusted-proxy addresses are not capped.
    #[arg(long, env = "CAISSE_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256)]
    max_connections_per_address: usize,
    /// Seconds a client has to send a request's head (and a TLS handshake), the first one
    /// included, whether it speaks HTTP/1 or HTTP/2.
    #[arg(long, env = "CAISSE_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    header_timeout_seconds: u64,
    /// Seconds a connection may stay open with no request under way.
    #[arg(long, env = "CAISSE_IDLE_TIMEOUT_SECONDS", default_value_t = 60)]
    idle_timeout_seconds: u64,
    /// Seconds a request body may take to arrive.
    #[arg(long, env = "CAISSE_BODY_TIMEOUT_SECONDS", default_value_t = 60)]
    body_timeout_seconds: u64,
    /// The card processor the online shop pays through (its HTTP API base). Without it the
    /// demo starts the local test-mode processor; `--no-demo` without it takes no payment.
    #[arg(long, env = "CAISSE_PAYMENT_URL")]
    payment_url: Option<String>,
    /// Seconds a call to the card processor may take before its answer counts as lost.
    #[arg(long, env = "CAISSE_PAYMENT_TIMEOUT_SECONDS", default_value_t = 10)]
    payment_timeout_seconds: u64,
    /// Mark the pages' session cookie Secure: set it behind a proxy that ends HTTPS (with
    /// --tls-cert it is always set).
    #[arg(long, env = "CAISSE_SECURE_COOKIES")]
    secure_cookies: bool,
    /// Seconds a checkout belongs to its request before the recovery takes it over; must be
    /// longer than the payment timeout.
    #[arg(long, env = "CAISSE_CHECKOUT_LEASE_SECONDS", default_value_t = 30)]
    checkout_lease_seconds: u64,
    /// Send customers' emails through this SMTP server: smtp://HOST:PORT, smtps://USER:PASSWORD@HOST,
    /// or smtp://HOST?tls=required for STARTTLS. Without it the demo writes them to --mail-folder.
    #[arg(long, env = "CAISSE_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The address customers' emails come from.
    #[arg(long, env = "CAISSE_MAIL_FROM", default_value = "Caisse <service@caisse.example>")]
    mail_from: String,
    /// Write customers' emails into this folder (one .eml file each) instead of sending them.
    #[arg(long, env = "CAISSE_MAIL_FOLDER")]
    mail_folder: Option<std::path::PathBuf>,
    /// Addresses of the load balancers in front (comma-separated): their X-Forwarded-For names
    /// the client, for rate limits and sign-in throttling.
    #[arg(long, env = "CAISSE_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Web origins the shop's pages are served from (comma-separated, like
    /// https://shop.example): their pages may call the shop's API from a browser (CORS).
    #[arg(long, env = "CAISSE_SHOP_ORIGINS", value_delimiter = ',')]
    shop_origins: Vec<String>,
    /// Requests a shopper may make a minute on the shop's API.
    #[arg(long, env = "CAISSE_SHOPPER_PER_MINUTE", default_value_t = 300)]
    shopper_per_minute: u32,
    /// Sign-ins a client address may attempt a minute (head office's and the shop's).
    #[arg(long, env = "CAISSE_SIGN_INS_PER_MINUTE", default_value_t = 30)]
    sign_ins_per_minute: u32,
    /// On SIGTERM, seconds /health answers "draining" before the server stops taking
    /// connections: behind a load balancer, longer than its checks take to notice.
    #[arg(long, env = "CAISSE_DRAIN_SECONDS", default_value_t = 0.0)]
    drain_seconds: f64,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "CAISSE_LOG_JSON")]
    log_json: bool,
    /// Head office's audit key: a file holding it in hex (`openssl rand -hex 32`), kept away
    /// from the database. Without it (nor --audit-key) the key is a file beside the SQLite
    /// database (caisse-audit.key in the working directory for PostgreSQL), made at first start.
    #[arg(long, env = "CAISSE_AUDIT_KEY_FILE", global = true, conflicts_with = "audit_key")]
    audit_key_file: Option<std::path::PathBuf>,
    /// Head office's audit key itself, in hex (at least 32 bytes); the environment is a better
    /// place for it than the command line.
    #[arg(long, env = "CAISSE_AUDIT_KEY", hide_env_values = true, global = true)]
    audit_key: Option<String>,
}

impl Args {
    fn audit_key(&self) -> anyhow::Result<sync_server::audit::KeySetting> {
        use sync_server::audit::{AuditKey, KeySetting};
        Ok(match (&self.audit_key_file, &self.audit_key) {
            (Some(path), _) => KeySetting::File(path.clone()),
            (None, Some(hex)) => KeySetting::Given(AuditKey::from_hex(hex)?),
            (None, None) => KeySetting::Beside,
        })
    }
}

/// Maintenance commands, run beside (or instead of) the server on the same database.
#[derive(Debug, Subcommand)]
enum Tool {
    /// Rebuild read models from their events.
    Replay {
        #[command(subcommand)]
        what: ReplayWhat,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Copy a SQLite database, consistent while the server runs, into a new file (on
    /// PostgreSQL use pg_dump). Restore by starting the server on the copy.
    Backup {
        /// The file to write; it must not exist.
        to: std::path::PathBuf,
    },
    /// Import a CSV file (comma or semicolon, as Excel writes it): every row is checked
    /// first, and nothing is written if one is refused.
    Import {
        what: Csv,
        file: std::path::PathBuf,
        /// Only check the file and say what would change.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export as CSV, in the format `import` reads.
    Export {
        what: Csv,
        /// The file to write (standard output without it).
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
        /// Separate cells with semicolons, as Excel in French expects.
        #[arg(long)]
        semicolon: bool,
    },
}

/// What a CSV file holds.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Csv {
    /// The catalogue: one product a row.
    Products,
    /// Stock levels: one (location, product) a row.
    Stock,
}

#[derive(Debug, Subcommand)]
enum ReplayWhat {
    /// Empty the claims' read models (queue, shoppers' claims, statistics) and rebuild them
    /// from the claims' events.
    Claims,
}

#[derive(Debug, Subcommand)]
enum AuditWhat {
    /// Check the hash chain; exits 1 naming the first entry that breaks it.
    Verify,
}

/// Runs a maintenance command; the exit code says whether it succeeded.
async fn run_tool(
    tool: Tool,
    database_url: &str,
    audit_key: &sync_server::audit::KeySetting,
) -> anyhow::Result<std::process::ExitCode> {
    let db = sync_server::Db::connect(database_url, 4).await?;
    let code = match tool {
        Tool::Backup { to } => {
            let bytes = sync_server::db::backup(&db, &to).await?;
            println!("Backed up the database into {} ({bytes} bytes).", to.display());
            std::process::ExitCode::SUCCESS
        }
        Tool::Replay { what: ReplayWhat::Claims } => {
            let events = sync_server::claims::projections::replay(&db).await?;
            println!("Replayed {events} claim events into every read model.");
            std::process::ExitCode::SUCCESS
        }
        Tool::Import { what, file, dry_run } => {
            let key = sync_server::audit::open_key(audit_key, database_url, &db, true).await?;
            let db = db.clone().with_audit_key(key);
            let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
            let actor = sync_server::audit::Actor::new(format!("cli:{user}"), None);
            let open = || std::fs::File::open(&file);
            let done = match what {
                Csv::Products => sync_server::catalogue::import::import(&db, open, dry_run, &actor).await,
                Csv::Stock => sync_server::opening_stock::import(&db, open, dry_run, &actor).await,
            };
            match done {
                Ok(report) => {
                    let verb = if report.imported { "Imported" } else { "Checked" };
                    println!(
                        "{verb} {} rows of {}: {} new, {} changed, {} unchanged{}.",
                        report.rows,
                        file.display(),
                        report.new,
                        report.changed,
                        report.unchanged,
                        if dry_run { " (nothing written: --dry-run)" } else { "" }
                    );
                    std::process::ExitCode::SUCCESS
                }
                Err(sync_server::csv_file::ImportError::Invalid(errors)) => {
                    for error in &errors.listed {
                        eprintln!("{error}");
                    }
                    let unlisted = errors.total - errors.listed.len() as u64;
                    if unlisted > 0 {
                        eprintln!("… and {unlisted} more.");
                    }
                    eprintln!("Nothing was imported: {} row(s) refused in {}.", errors.total, file.display());
                    std::process::ExitCode::FAILURE
                }
                Err(e) => return Err(e.into()),
            }
        }
        Tool::Export { what, output, semicolon } => {
            use std::io::Write;
            let separator = if semicolon { b';' } else { b',' };
            let mut out: Box<dyn Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create_new(path)?)),
                None => Box::new(std::io::stdout().lock()),
            };
            match what {
                Csv::Products => {
                    let mut export = sync_server::catalogue::import::Export::new(db.clone(), separator);
                    while let Some(piece) = export.next().await? {
                        out.write_all(&piece)?;
                    }
                }
                Csv::Stock => {
                    let mut export = sync_server::opening_stock::Export::new(db.clone(), separator);
                    while let Some(piece) = export.next().await? {
                        out.write_all(&piece)?;
                    }
                }
            }
            out.flush()?;
            std::process::ExitCode::SUCCESS
        }
        Tool::Audit { what: AuditWhat::Verify } => {
            let key = sync_server::audit::open_key(audit_key, database_url, &db, false).await?;
            let found = sync_server::audit::verify(&db.clone().with_audit_key(key)).await?;
            match found.broken {
                None => {
                    println!(
                        "The audit trail holds: {} entries, the last {} with hash {}.",
                        found.entries, found.head_seq, found.head_hash
                    );
                    std::process::ExitCode::SUCCESS
                }
                Some(broken) => {
                    println!("The audit trail is broken at entry {}: {}", broken.seq, broken.reason);
                    std::process::ExitCode::FAILURE
                }
            }
        }
    };
    db.close().await;
    Ok(code)
}

// glibc's malloc took a fifth of the server's CPU on uncached catalogue reads, much of it in
// its arenas' locks between the runtime's threads (BENCHMARKS.md); mimalloc keeps a heap per
// thread.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<std::process::ExitCode> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("CAISSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if args.log_json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    let audit_key = args.audit_key()?;
    if let Some(tool) = args.command {
        return run_tool(tool, &args.database_url, &audit_key).await;
    }
    let mail = match (args.smtp_url, args.mail_folder) {
        (Some(url), _) => sync_server::http::Mail::Smtp { url, from: args.mail_from },
        (None, Some(path)) => sync_server::http::Mail::Folder { path, from: args.mail_from },
        // The demo's mailbox: a folder beside its database.
        (None, None) if !args.no_demo => {
            sync_server::http::Mail::Folder { path: "data/mail".into(), from: args.mail_from }
        }
        (None, None) => sync_server::http::Mail::Off,
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(sync_server::listener::Tls::from_files(cert, key)?),
        _ => None,
    };
    let header_timeout = std::time::Duration::from_secs(args.header_timeout_seconds.max(1));
    serve(Config {
        tls,
        limits: sync_server::listener::Limits {
            max_connections: args.max_connections.max(1),
            max_connections_per_address: args.max_connections_per_address,
            trusted_proxies: args.trusted_proxies.clone(),
            header_timeout,
            idle_timeout: std::time::Duration::from_secs(args.idle_timeout_seconds.max(1)),
            tls_handshake_timeout: header_timeout,
        },
        listen: args.listen,
        audit_key,
        database_url: args.database_url,
        demo: !args.no_demo,
        admin_password: args.admin_password,
        max_connections: args.db_connections,
        settings: Settings {
            skew_bound_ms: args.skew_bound_seconds * 1_000,
            body_limit: args.body_limit_mib * 1024 * 1024,
            body_timeout: std::time::Duration::from_secs(args.body_timeout_seconds.max(1)),
            payment_url: args.payment_url,
            payment_timeout: std::time::Duration::from_secs(args.payment_timeout_seconds.max(1)),
            shop: sync_server::shop::Settings {
                lease: std::time::Duration::from_secs(
                    args.checkout_lease_seconds.max(args.payment_timeout_seconds.max(1) + 1),
                ),
                ..Default::default()
            },
            secure_cookies: args.secure_cookies,
            mail,
            gateway: sync_server::http::gateway::Gateway {
                shopper: sync_server::gateway::limits::Policy::new(args.shopper_per_minute.max(1), 0),
                sign_in: sync_server::gateway::limits::Policy::new(
                    args.sign_ins_per_minute.max(1),
                    args.sign_ins_per_minute.max(1).saturating_mul(10),
                ),
                trusted_proxies: args.trusted_proxies,
                shop_origins: args.shop_origins,
            },
            drain: std::time::Duration::from_secs_f64(args.drain_seconds.clamp(0.0, 300.0)),
            ..Settings::default()
        },
    })
    .await?;
    Ok(std::process::ExitCode::SUCCESS)
}
