//! Opening the store: SQLite by default, Postgres for clusters, chosen by the URL scheme.
//!
//! SQLite runs in WAL mode (readers never block the writer), with foreign keys enforced,
//! `synchronous = FULL` (a committed release survives a power cut, not only a `kill -9`) and
//! a busy timeout so concurrent writers wait instead of failing.
//!
//! The services read and write through [`Db`]: the pool, or, while a configuration file is
//! applied (`crate::config`), one transaction every service's own transaction nests in as a
//! savepoint.

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult,
    SqlxSqliteConnector, Statement,
};
use std::str::FromStr;
use std::time::Duration;

/// The PostgreSQL advisory lock every writing transaction holds (`Control::begin_write`):
/// writers queue one after another, as on SQLite. (The bytes of "gantry" as a number.)
pub const WRITE_LOCK: i64 = 0x67_616e_7472_79;

/// How long a SQLite writer waits for the lock before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the services run their statements on.
#[derive(Debug, Clone)]
pub enum Db {
    /// The connection pool: each write is its own transaction.
    Pool(DatabaseConnection),
    /// One open transaction (applying a configuration file): reads see its writes, and a
    /// service's transaction is a savepoint inside it.
    Apply(std::sync::Arc<crate::config::ApplyScope>),
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        match self {
            Db::Pool(pool) => pool.get_database_backend(),
            Db::Apply(scope) => scope.txn.get_database_backend(),
        }
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        match self {
            Db::Pool(pool) => pool.execute_raw(stmt).await,
            Db::Apply(scope) => scope.txn.execute_raw(stmt).await,
        }
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        match self {
            Db::Pool(pool) => pool.execute_unprepared(sql).await,
            Db::Apply(scope) => scope.txn.execute_unprepared(sql).await,
        }
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        match self {
            Db::Pool(pool) => pool.query_one_raw(stmt).await,
            Db::Apply(scope) => scope.txn.query_one_raw(stmt).await,
        }
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match self {
            Db::Pool(pool) => pool.query_all_raw(stmt).await,
            Db::Apply(scope) => scope.txn.query_all_raw(stmt).await,
        }
    }
}

/// Connects to a `sqlite:` or `postgres://` URL.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| DbErr::Custom(format!("bad SQLite URL `{url}`: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
        Ok(SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut options = ConnectOptions::new(url);
        // Short timeouts: a node cut from the database says so within seconds (and keeps
        // serving its snapshot) rather than waiting half a minute per attempt.
        options
            .max_connections(16)
            .connect_timeout(Duration::from_secs(3))
            .acquire_timeout(Duration::from_secs(3))
            .sqlx_logging(false);
        Database::connect(options).await
    } else {
        Err(DbErr::Custom(format!("unsupported database URL `{url}`: use sqlite:… or postgres://…")))
    }
}

/// The SQLite URL for the database file in `data_dir`.
pub fn sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}", data_dir.join("gantry.db").display())
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn pragma(db: &DatabaseConnection, name: &str) -> String {
        let row = db
            .query_one_raw(Statement::from_string(db.get_database_backend(), format!("PRAGMA {name}")))
            .await
            .expect("pragma")
            .expect("row");
        row.try_get_by_index::<i64>(0)
            .map(|v| v.to_string())
            .or_else(|_| row.try_get_by_index::<String>(0))
            .expect("value")
    }

    #[tokio::test]
    async fn sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = connect(&sqlite_url(dir.path())).await.expect("connect");
        migrate(&db).await.expect("migrate");
        assert_eq!(pragma(&db, "journal_mode").await, "wal");
        assert_eq!(pragma(&db, "foreign_keys").await, "1");
        assert_eq!(pragma(&db, "busy_timeout").await, BUSY_TIMEOUT.as_millis().to_string());
    }

    #[tokio::test]
    async fn migrating_twice_is_harmless() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = connect(&sqlite_url(dir.path())).await.expect("connect");
        migrate(&db).await.expect("first");
        migrate(&db).await.expect("second");
    }

    #[tokio::test]
    async fn unknown_schemes_are_refused() {
        assert!(connect("mysql://localhost/gantry").await.is_err());
    }
}
