//! The `gantry` command line. With no subcommand it serves.

use crate::config::{DatabaseSettings, ServeSettings};
use crate::Application;
use clap::{Parser, Subcommand};
use control::users::{NewPassword, Username};
use control::Control;

/// Gantry: a self-hosted API gateway with a web console.
#[derive(Parser, Debug)]
#[command(
    name = "gantry",
    version,
    about,
    args_conflicts_with_subcommands = true,
    after_help = "Logging: GANTRY_LOG sets the log filter (tracing env-filter syntax, default `info`)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    serve: ServeSettings,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the console (and admin API) and the gateway; the default.
    Serve(ServeSettings),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseSettings),
    /// Manage console users.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Export the configuration as YAML, or compare a file with it.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage admin REST API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Create a user. Without --password a random one is generated and printed once.
    Create {
        #[command(flatten)]
        user: UserArgs,
        /// The new user's role: admin, developer or viewer.
        #[arg(long, default_value = "admin")]
        role: String,
    },
    /// Set a new password for a user. Without --password a random one is generated and
    /// printed once.
    ResetPassword(UserArgs),
}

#[derive(clap::Args, Debug)]
struct UserArgs {
    /// The user's login name.
    #[arg(long, default_value = "admin")]
    username: String,
    /// The new password (at least 8 characters).
    #[arg(long, env = "GANTRY_NEW_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    #[command(flatten)]
    database: DatabaseSettings,
}

#[derive(Subcommand, Debug)]
enum ConfigCommand {
    /// Print groups, APIs (draft), version labels, deployments, backend services, custom
    /// domains, policies and apps as sorted YAML (no secrets unless --with-secrets).
    Export {
        /// Only this group.
        #[arg(long)]
        group: Option<String>,
        /// Include apps' AppKey, AppSecret and AppCode.
        #[arg(long)]
        with_secrets: bool,
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// Print what FILE would change (one line per field) and exit with 1 when it differs
    /// from the configuration, 0 when it is the same.
    Diff {
        /// A file written by `gantry config export` (and edited).
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// Make the configuration what FILE says, in one transaction, acting as --user (its role
    /// decides what may change; every change is audited as it). Prints what changed; a
    /// refusal changes nothing and exits with 1.
    Apply {
        /// A file written by `gantry config export` (and edited).
        file: std::path::PathBuf,
        /// The user the changes are made (and audited) as.
        #[arg(long, default_value = "admin")]
        user: String,
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// Print the JSON Schema of the file format.
    Schema,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create a bearer token for the admin REST API; it is printed once.
    Create {
        /// A name to recognise the token by.
        #[arg(long)]
        name: String,
        /// The user the token acts as.
        #[arg(long, default_value = "admin")]
        user: String,
        /// Days until the token stops working (1 to 3650); without it, it does not expire.
        #[arg(long)]
        expires_days: Option<u32>,
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// List the tokens (never the tokens themselves): id, name, user, created, last used,
    /// expiry.
    List {
        #[command(flatten)]
        database: DatabaseSettings,
    },
    /// Revoke a token by its id (from `gantry token list`); it stops working at once.
    Revoke {
        /// The token's id.
        #[arg(long)]
        id: i32,
        #[command(flatten)]
        database: DatabaseSettings,
    },
}

/// Resolves on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    // The handlers are installed now, before the server says it is listening: a SIGTERM that
    // follows that line at once must stop it gracefully, not kill it by the default action.
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        (signal(SignalKind::terminate()).ok(), signal(SignalKind::interrupt()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |stream: Option<tokio::signal::unix::Signal>| async move {
                match stream {
                    Some(mut stream) => {
                        stream.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let (terminate, interrupt) = signals;
            tokio::select! {
                () = wait(terminate) => {}
                () = wait(interrupt) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn password_or_generated(raw: Option<String>) -> anyhow::Result<(NewPassword, bool)> {
    Ok(match raw {
        Some(raw) => (NewPassword::parse(&raw)?, false),
        None => (NewPassword::generate(), true),
    })
}

impl Cli {
    /// The runtime the command runs on: `GANTRY_WORKER_THREADS` threads (by default one per
    /// CPU this process may use); with one, the current-thread scheduler.
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        let serve = match &self.command {
            Some(Command::Serve(settings)) => settings,
            _ => &self.serve,
        };
        let workers = match serve.worker_threads {
            Some(n) => usize::from(n),
            None => std::thread::available_parallelism().map(usize::from).unwrap_or(1),
        };
        let mut builder = match workers {
            1 => tokio::runtime::Builder::new_current_thread(),
            n => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                builder.worker_threads(n);
                builder
            }
        };
        builder.enable_all().build()
    }
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve(cli.serve)) {
        Command::Serve(settings) => Application::build(settings).await?.run_until(shutdown_signal()).await,
        Command::Migrate(database) => {
            Control::open(&database.url()?).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Admin(AdminCommand::Create { user: args, role }) => {
            let control = Control::open(&args.database.url()?).await?;
            let username = Username::parse(&args.username)?;
            let role = control::users::Role::parse(&role).map_err(|m| anyhow::anyhow!("--role {m}"))?;
            let (password, generated) = password_or_generated(args.password)?;
            control.create_user(&username, password.clone(), &control::users::Grant { role, groups: None }).await?;
            println!("created user {}", username.as_str());
            if generated {
                println!("password: {}", password.reveal());
            }
            Ok(())
        }
        Command::Admin(AdminCommand::ResetPassword(args)) => {
            let control = Control::open(&args.database.url()?).await?;
            let (password, generated) = password_or_generated(args.password)?;
            control.reset_password(&args.username, password.clone()).await?;
            println!("password changed for {}", args.username);
            if generated {
                println!("password: {}", password.reveal());
            }
            Ok(())
        }
        Command::Token(TokenCommand::Create { name, user, expires_days, database }) => {
            let control = Control::open(&database.url()?).await?;
            let spec = control::tokens::TokenSpec { name, expires_in_days: expires_days };
            let created = control.issue_token(&spec, &user).await?;
            println!("{}", created.token);
            Ok(())
        }
        Command::Config(ConfigCommand::Export { group, with_secrets, database }) => {
            let control = Control::open(&database.url()?).await?;
            let options = control::config::ExportOptions { group, with_secrets };
            print!("{}", crate::config_file::to_yaml(&control.export_config(&options).await?)?);
            Ok(())
        }
        Command::Config(ConfigCommand::Diff { file, database }) => {
            let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let document =
                crate::config_file::from_yaml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let control = Control::open(&database.url()?).await?;
            let diff = control.diff_config(&document).await?;
            for change in &diff.changes {
                println!("{}", crate::config_file::describe(change));
            }
            if diff.different {
                println!("{} change(s)", diff.changes.len());
                std::process::exit(1);
            }
            println!("no changes");
            Ok(())
        }
        Command::Config(ConfigCommand::Apply { file, user, database }) => {
            let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let document =
                crate::config_file::from_yaml(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let control = Control::open(&database.url()?).await?;
            let actor = control.acting_user(&user, "cli").await?;
            let applied = control.apply_config(&document, &actor).await?;
            for change in &applied.changes {
                println!("{}", crate::config_file::describe(change));
            }
            if applied.applied {
                println!("applied {} change(s) as {user}: revision {}", applied.changes.len(), applied.revision);
            } else {
                println!("no changes");
            }
            Ok(())
        }
        Command::Config(ConfigCommand::Schema) => {
            println!("{}", serde_json::to_string_pretty(&control::config::schema()).unwrap_or_default());
            Ok(())
        }
        Command::Token(TokenCommand::List { database }) => {
            let control = Control::open(&database.url()?).await?;
            println!("{:<6} {:<24} {:<12} {:<20} {:<20} EXPIRES", "ID", "NAME", "USER", "CREATED", "LAST USED");
            let minute = |t: &str| t.chars().take(16).collect::<String>().replace('T', " ");
            for token in control.list_tokens().await? {
                let expires = match (&token.expires_at, token.expired) {
                    (_, true) => "expired".to_owned(),
                    (Some(at), false) => minute(at),
                    (None, false) => "never".to_owned(),
                };
                println!(
                    "{:<6} {:<24} {:<12} {:<20} {:<20} {expires}",
                    token.id,
                    token.name,
                    token.user,
                    minute(&token.created_at),
                    token.last_used_at.as_deref().map(minute).unwrap_or_else(|| "never".to_owned()),
                );
            }
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { id, database }) => {
            let control = Control::open(&database.url()?).await?;
            control.revoke_token(id).await?;
            println!("token {id} revoked");
            Ok(())
        }
    }
}
