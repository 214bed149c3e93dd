//! Traffic over time: what gateway nodes write ([`Control::write_stats`]), what the console
//! and `GET /groups/{group}/stats` read ([`Control::stats`], [`Control::group_overview`],
//! [`Control::backend_health`]), and the upkeep ([`Control::maintain_stats`]): minutes rolled
//! up into hours, rows older than their retention deleted.
//!
//! Every node writes its own rows (the node id is part of the key), so nodes never write the
//! same row; readers sum over nodes. A row holds its minute so far and each write replaces
//! it, so a batch written twice (a retry) counts once.

use crate::entity::{api, backend_minute, deployment_event, stats_hour, stats_minute, version};
use crate::{Control, ControlError};
use domain::stats::{
    origin_of, ApiTraffic, BackendHealth, Counts, GroupOverview, LatencySketch, StatsBatch, StatsBucket, StatsEvent,
    StatsFilter, StatsQuery, StatsView, VersionSeries,
};
use domain::Environment;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait};
use std::collections::{BTreeMap, HashMap};

/// How long rows are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// 1-minute rows (default 7 days).
    pub minute_days: u32,
    /// 1-hour rows (default 90 days).
    pub hour_days: u32,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention { minute_days: 7, hour_days: 90 }
    }
}

/// Backend calls are kept a day (the page shows the last minutes).
const BACKEND_KEEP_SECONDS: i64 = 86_400;
/// Rows written per statement (SQLite's bound-parameter limit).
const CHUNK: usize = 500;
/// Hours recomputed at each upkeep (late writes of the last hours are picked up).
const RECENT_HOURS: i64 = 3;

/// What [`Control::maintain_stats`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Upkeep {
    /// Hour rows written.
    pub hours_written: u64,
    /// Rows deleted (minutes, hours, backend minutes).
    pub deleted: u64,
}

fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.to_rfc3339()).unwrap_or_default()
}

fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn uncount(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The counts of a stored row (a sketch that does not decode counts no latencies, and says so).
fn counts_of(row: &stats_minute::Model) -> Counts {
    let latency = LatencySketch::decode(&row.latency).unwrap_or_else(|why| {
        tracing::warn!(node = %row.node, start = row.start, %why, "a stored latency sketch is unreadable");
        LatencySketch::default()
    });
    Counts {
        requests: uncount(row.requests),
        status_2xx: uncount(row.status_2xx),
        status_3xx: uncount(row.status_3xx),
        status_4xx: uncount(row.status_4xx),
        status_5xx: uncount(row.status_5xx),
        upstream_errors: uncount(row.upstream_errors),
        timeouts: uncount(row.timeouts),
        bytes_out: uncount(row.bytes_out),
        latency,
    }
}

/// A row of `stats_minutes` or `stats_hours` (the same columns) for a series' counts.
macro_rules! series_row {
    ($table:ident, $node:expr, $key:expr, $counts:expr) => {{
        let (node, key, counts): (&str, &domain::stats::SeriesKey, &Counts) = ($node, $key, $counts);
        $table::ActiveModel {
            node: Set(node.to_owned()),
            start: Set(key.start),
            group_id: Set(key.group_id),
            api_id: Set(key.api_id),
            environment: Set(key.env.as_str().to_owned()),
            version: Set(key.version.clone()),
            requests: Set(count(counts.requests)),
            status_2xx: Set(count(counts.status_2xx)),
            status_3xx: Set(count(counts.status_3xx)),
            status_4xx: Set(count(counts.status_4xx)),
            status_5xx: Set(count(counts.status_5xx)),
            upstream_errors: Set(count(counts.upstream_errors)),
            timeouts: Set(count(counts.timeouts)),
            bytes_out: Set(count(counts.bytes_out)),
            latency: Set(counts.latency.encode()),
        }
    }};
}

/// A series row's key columns, and the columns a write replaces (the same names in
/// `stats_minutes` and `stats_hours`).
macro_rules! series_conflict {
    ($c:ident) => {
        OnConflict::columns([$c::Node, $c::Start, $c::GroupId, $c::ApiId, $c::Environment, $c::Version])
            .update_columns([
                $c::Requests,
                $c::Status2xx,
                $c::Status3xx,
                $c::Status4xx,
                $c::Status5xx,
                $c::UpstreamErrors,
                $c::Timeouts,
                $c::BytesOut,
                $c::Latency,
            ])
            .to_owned()
    };
}

impl Control {
    /// Writes a node's batch (one transaction): each row replaces the one it wrote before.
    pub async fn write_stats(&self, node: &str, batch: &StatsBatch) -> Result<(), ControlError> {
        use stats_minute::Column as C;
        if batch.is_empty() {
            return Ok(());
        }
        let txn = self.begin_rows().await?;
        for chunk in batch.series.chunks(CHUNK) {
            stats_minute::Entity::insert_many(
                chunk.iter().map(|(key, counts)| series_row!(stats_minute, node, key, counts)),
            )
            .on_conflict(series_conflict!(C))
            .exec_without_returning(&txn)
            .await?;
        }
        for chunk in batch.backends.chunks(CHUNK) {
            use backend_minute::Column as B;
            let rows = chunk.iter().map(|((start, origin), calls)| backend_minute::ActiveModel {
                node: Set(node.to_owned()),
                start: Set(*start),
                origin: Set(origin.clone()),
                requests: Set(count(calls.requests)),
                upstream_errors: Set(count(calls.upstream_errors)),
                timeouts: Set(count(calls.timeouts)),
            });
            backend_minute::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([B::Node, B::Start, B::Origin])
                        .update_columns([B::Requests, B::UpstreamErrors, B::Timeouts])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// A transaction for rows no other node writes: SQLite's write lock at once (as
    /// `begin_write`), without PostgreSQL's configuration lock.
    async fn begin_rows(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        let options = sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        // Traffic rows are never written while a configuration file is applied.
        self.pool().begin_with_options(options).await
    }

    /// The rows of `group` from `from` (inclusive) on: minutes from `minutes_from`, hours
    /// before that.
    async fn series_rows(
        &self,
        group_id: i32,
        filter: &StatsFilter,
        from: i64,
        minutes_from: i64,
    ) -> Result<Vec<stats_minute::Model>, ControlError> {
        let mut minutes = stats_minute::Entity::find()
            .filter(stats_minute::Column::GroupId.eq(group_id))
            .filter(stats_minute::Column::Start.gte(from.max(minutes_from)));
        if let Some(env) = filter.env {
            minutes = minutes.filter(stats_minute::Column::Environment.eq(env.as_str()));
        }
        if let Some(api) = filter.api {
            minutes = minutes.filter(stats_minute::Column::ApiId.eq(api));
        }
        let mut rows = minutes.all(self.db()).await?;
        if from < minutes_from {
            let mut hours = stats_hour::Entity::find()
                .filter(stats_hour::Column::GroupId.eq(group_id))
                .filter(stats_hour::Column::Start.gte(from))
                .filter(stats_hour::Column::Start.lt(minutes_from));
            if let Some(env) = filter.env {
                hours = hours.filter(stats_hour::Column::Environment.eq(env.as_str()));
            }
            if let Some(api) = filter.api {
                hours = hours.filter(stats_hour::Column::ApiId.eq(api));
            }
            // Same columns: an hour row reads as a minute row.
            rows.extend(hours.into_model::<stats_minute::Model>().all(self.db()).await?);
        }
        Ok(rows)
    }

    /// `GET /groups/{group}/stats`: one API's (or the group's) points over the range, summed
    /// over nodes (and over versions, each also a series of its own), and the deployment
    /// events of the range.
    pub async fn stats(&self, group: &str, query: &StatsQuery) -> Result<StatsView, ControlError> {
        let filter = query.parse().map_err(ControlError::Validation)?;
        self.stats_at(group, filter, now_seconds(), self.retention(), false).await.map(|(view, _)| view)
    }

    /// [`Control::group_overview`] and [`Control::stats`] at a given time; every API's
    /// totals too when `with_apis`.
    async fn stats_at(
        &self,
        group: &str,
        filter: StatsFilter,
        now: i64,
        retention: Retention,
        with_apis: bool,
    ) -> Result<(StatsView, Vec<ApiTraffic>), ControlError> {
        let group = self.find_group(group).await?;
        let step = filter.range.bucket_seconds();
        let end = now - now.rem_euclid(step) + step;
        let from = end - filter.range.seconds();
        // Minutes where they are kept. Hourly points read the hour rows (60 times fewer) for
        // every hour before the previous one: the upkeep rolls an hour up again every minute
        // for three hours, so those are complete.
        let kept = now - i64::from(retention.minute_days) * 86_400;
        let minutes_from = if step >= 3_600 { kept.max(now - now.rem_euclid(3_600) - 3_600) } else { kept };
        let rows = self.series_rows(group.id, &filter, from, minutes_from).await?;
        let slots = usize::try_from(filter.range.seconds() / step).unwrap_or_default();
        let mut buckets = vec![Counts::default(); slots];
        let mut per_api: BTreeMap<i32, Counts> = BTreeMap::new();
        let mut per_version: BTreeMap<String, Vec<Counts>> = BTreeMap::new();
        for row in &rows {
            let counts = counts_of(row);
            if let Some(i) = usize::try_from((row.start - from) / step).ok().filter(|i| *i < slots) {
                buckets[i].merge(&counts);
                let version = per_version.entry(row.version.clone()).or_insert_with(|| vec![Counts::default(); slots]);
                version[i].merge(&counts);
            }
            if with_apis {
                per_api.entry(row.api_id).or_default().merge(&counts);
            }
        }
        let buckets = buckets
            .iter()
            .enumerate()
            .map(|(i, counts)| {
                let start = from + i as i64 * step;
                StatsBucket::new(rfc3339(start), start, counts)
            })
            .collect();
        let events = self.deployment_markers(group.id, filter.env, from).await?;
        let view = StatsView {
            range: filter.range,
            env: filter.env,
            api: filter.api,
            bucket_seconds: step,
            buckets,
            events,
            versions: VersionSeries::all(per_version),
        };
        if !with_apis {
            return Ok((view, Vec::new()));
        }
        let names: HashMap<i32, String> = api::Entity::find()
            .filter(api::Column::GroupId.eq(group.id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|a| (a.id, a.name))
            .collect();
        let mut apis: Vec<ApiTraffic> = per_api
            .into_iter()
            .map(|(id, counts)| ApiTraffic {
                api_id: (id >= 0).then_some(id),
                api: match id {
                    -1 => "(no API matched)".to_owned(),
                    id => names.get(&id).cloned().unwrap_or_else(|| format!("API {id} (deleted)")),
                },
                requests: counts.requests,
                status_4xx: counts.status_4xx,
                status_5xx: counts.status_5xx,
                error_rate: if counts.requests == 0 { 0.0 } else { counts.status_5xx as f64 / counts.requests as f64 },
                p99_ms: counts.latency.quantile_ms(0.99),
            })
            .collect();
        apis.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.api.cmp(&b.api)));
        Ok((view, apis))
    }

    /// A group's page of charts: the group's points and every API's totals over the range.
    pub async fn group_overview(&self, group: &str, query: &StatsQuery) -> Result<GroupOverview, ControlError> {
        let filter = StatsFilter { api: None, ..query.parse().map_err(ControlError::Validation)? };
        let (stats, apis) = self.stats_at(group, filter, now_seconds(), self.retention(), true).await?;
        Ok(GroupOverview { stats, apis })
    }

    /// Releases, switches and off-lines of the group since `from` (oldest first).
    async fn deployment_markers(
        &self,
        group_id: i32,
        env: Option<Environment>,
        from: i64,
    ) -> Result<Vec<StatsEvent>, ControlError> {
        let since = chrono::DateTime::from_timestamp(from, 0).unwrap_or_default();
        let mut query = deployment_event::Entity::find()
            .filter(deployment_event::Column::GroupId.eq(group_id))
            .filter(deployment_event::Column::At.gte(since));
        if let Some(env) = env {
            query = query.filter(deployment_event::Column::Environment.eq(env.as_str()));
        }
        let events = query.order_by_asc(deployment_event::Column::Id).all(self.db()).await?;
        let ids: Vec<i32> = events.iter().filter_map(|e| e.to_version_id).collect();
        let labels: HashMap<i32, String> = match ids.is_empty() {
            true => HashMap::new(),
            false => version::Entity::find()
                .filter(version::Column::Id.is_in(ids))
                .all(self.db())
                .await?
                .into_iter()
                .map(|v| (v.id, v.label))
                .collect(),
        };
        events
            .into_iter()
            .map(|e| {
                Ok(StatsEvent {
                    time: e.at.to_rfc3339(),
                    time_unix: e.at.timestamp(),
                    env: e.environment()?,
                    action: e.action,
                    version: e.to_version_label.or_else(|| e.to_version_id.and_then(|id| labels.get(&id).cloned())),
                })
            })
            .collect()
    }

    /// Each backend origin's calls over the last `minutes` minutes (1–60), summed over nodes.
    pub async fn backend_health(&self, minutes: u32) -> Result<Vec<BackendHealth>, ControlError> {
        if !(1..=60).contains(&minutes) {
            return Err(ControlError::field("minutes", "a number of minutes from 1 to 60"));
        }
        let now = now_seconds();
        let from = now - now.rem_euclid(60) - i64::from(minutes.saturating_sub(1)) * 60;
        let rows =
            backend_minute::Entity::find().filter(backend_minute::Column::Start.gte(from)).all(self.db()).await?;
        let mut health: BTreeMap<String, BackendHealth> = BTreeMap::new();
        for row in rows {
            let origin = origin_of(&row.origin).unwrap_or(row.origin);
            let entry = health.entry(origin.clone()).or_insert_with(|| BackendHealth::empty(origin, minutes));
            entry.requests += uncount(row.requests);
            entry.upstream_errors += uncount(row.upstream_errors);
            entry.timeouts += uncount(row.timeouts);
        }
        // Every target this node serves, called lately or not, with its state here.
        for peer in gateway::peer::peers() {
            let Some(origin) = origin_of(&peer.origin.key) else { continue };
            let entry = health.entry(origin.clone()).or_insert_with(|| BackendHealth::empty(origin, minutes));
            // A target listed with two limits is two peers: the worse state shows.
            let state = peer.state();
            if entry.state.as_deref().is_none_or(|shown| shown == "healthy") {
                entry.state = Some(state.to_owned());
            }
        }
        Ok(health.into_values().collect())
    }

    /// Rolls the recent hours' minutes up into hour rows (again: late writes are picked up),
    /// or every hour still kept in minutes when `all`; then deletes rows past their
    /// retention. Idempotent: an hour row is always the sum of its minutes.
    pub async fn maintain_stats(&self, now: i64, retention: Retention, all: bool) -> Result<Upkeep, ControlError> {
        let mut upkeep = Upkeep::default();
        let current_hour = now - now.rem_euclid(3_600);
        let oldest = match all {
            true => now - i64::from(retention.minute_days) * 86_400,
            false => current_hour - RECENT_HOURS * 3_600,
        };
        let mut hour = oldest - oldest.rem_euclid(3_600);
        while hour <= current_hour {
            upkeep.hours_written += self.roll_up_hour(hour).await?;
            hour += 3_600;
        }
        let txn = self.begin_rows().await?;
        upkeep.deleted += stats_minute::Entity::delete_many()
            .filter(stats_minute::Column::Start.lt(now - i64::from(retention.minute_days) * 86_400))
            .exec(&txn)
            .await?
            .rows_affected;
        upkeep.deleted += stats_hour::Entity::delete_many()
            .filter(stats_hour::Column::Start.lt(now - i64::from(retention.hour_days) * 86_400))
            .exec(&txn)
            .await?
            .rows_affected;
        upkeep.deleted += backend_minute::Entity::delete_many()
            .filter(backend_minute::Column::Start.lt(now - BACKEND_KEEP_SECONDS))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        Ok(upkeep)
    }

    /// Writes the hour rows of the hour starting at `hour` from its minute rows.
    async fn roll_up_hour(&self, hour: i64) -> Result<u64, ControlError> {
        use stats_hour::Column as C;
        let minutes = stats_minute::Entity::find()
            .filter(stats_minute::Column::Start.gte(hour))
            .filter(stats_minute::Column::Start.lt(hour + 3_600))
            .all(self.db())
            .await?;
        if minutes.is_empty() {
            return Ok(0);
        }
        let mut sums: BTreeMap<(String, i32, i32, String, String), Counts> = BTreeMap::new();
        for row in &minutes {
            let key = (row.node.clone(), row.group_id, row.api_id, row.environment.clone(), row.version.clone());
            sums.entry(key).or_default().merge(&counts_of(row));
        }
        let written = sums.len() as u64;
        let rows: Vec<stats_hour::ActiveModel> = sums
            .into_iter()
            .filter_map(|((node, group_id, api_id, env, version), counts)| {
                let env = env.parse::<Environment>().ok()?;
                let key = domain::stats::SeriesKey { start: hour, group_id, api_id, env, version };
                Some(series_row!(stats_hour, &node, &key, &counts))
            })
            .collect();
        let txn = self.begin_rows().await?;
        for chunk in rows.chunks(CHUNK) {
            stats_hour::Entity::insert_many(chunk.to_vec())
                .on_conflict(series_conflict!(C))
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        Ok(written)
    }

    /// [`Control::stats`] at a given time and retention (tests of roll-up and pruning).
    pub async fn stats_as_of(
        &self,
        group: &str,
        filter: StatsFilter,
        now: i64,
        retention: Retention,
    ) -> Result<StatsView, ControlError> {
        self.stats_at(group, filter, now, retention, false).await.map(|(view, _)| view)
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{admin, control};
    use domain::group::GroupSpec;
    use domain::stats::{Counts, SeriesKey, StatsBatch, StatsFilter, StatsRange};
    use domain::Environment;

    use super::Retention;

    fn counts(requests: u64, latency_us: u64) -> Counts {
        let mut c = Counts::default();
        for _ in 0..requests {
            c.add(200, latency_us, 1, None);
        }
        c
    }

    fn key(start: i64, group_id: i32) -> SeriesKey {
        SeriesKey { start, group_id, api_id: 5, env: Environment::Test, version: "v1".into() }
    }

    #[tokio::test]
    async fn each_version_that_answered_is_a_series_of_its_own_summed_over_nodes() {
        let (control, _dir) = control().await;
        let spec = GroupSpec { name: "petstore".into(), subdomain: "petstore".into(), description: String::new() };
        let group = control.create_group(&spec, &admin()).await.expect("group");
        let now = 1_800_000_000 - 1_800_000_000 % 3_600 + 1_800;
        let minute = now - now % 60;
        let at = |start, version: &str| SeriesKey { version: version.into(), ..key(start, group.id) };
        // A canary: 1.1.0 takes a tenth, on two nodes, and is slower.
        let a = StatsBatch {
            series: vec![(at(minute, "1.0.0"), counts(45, 2_000)), (at(minute, "1.1.0"), counts(3, 30_000))],
            backends: vec![],
        };
        let b = StatsBatch {
            series: vec![(at(minute - 60, "1.0.0"), counts(45, 2_000)), (at(minute, "1.1.0"), counts(7, 30_000))],
            backends: vec![],
        };
        control.write_stats("a", &a).await.expect("write a");
        control.write_stats("b", &b).await.expect("write b");
        let filter = StatsFilter { env: Some(Environment::Test), api: Some(5), range: StatsRange::Hour };
        let view = control.stats_as_of("petstore", filter, now, Retention::default()).await.expect("stats");
        assert_eq!(view.total_requests(), 100);
        let lines: Vec<(&str, u64)> = view.versions.iter().map(|v| (v.version.as_str(), v.requests)).collect();
        assert_eq!(lines, [("1.0.0", 90), ("1.1.0", 10)]);
        let canary = &view.versions[1];
        assert_eq!(canary.points.len(), view.buckets.len(), "aligned with the buckets");
        let last = view.buckets.iter().position(|b| b.start_unix == minute).expect("the minute");
        assert_eq!((canary.points[last].requests, canary.points[last - 1].requests), (10, 0));
        assert!(canary.p99_ms.is_some_and(|p| (p - 30.0).abs() <= 0.5), "{:?}", canary.p99_ms);
        assert!(view.versions[0].p99_ms.is_some_and(|p| p < 2.1));
    }

    #[tokio::test]
    async fn nodes_sum_writes_replace_and_old_minutes_roll_up_then_leave() {
        let (control, _dir) = control().await;
        let spec = GroupSpec { name: "petstore".into(), subdomain: "petstore".into(), description: String::new() };
        let group = control.create_group(&spec, &admin()).await.expect("group");
        let now = 1_800_000_000 - 1_800_000_000 % 3_600 + 1_800; // half past an hour
        let minute = now - now % 60;
        // Two nodes; node a writes its minute twice (the second replaces the first).
        let batch = |n, at| StatsBatch { series: vec![(key(at, group.id), counts(n, 2_000))], backends: vec![] };
        control.write_stats("a", &batch(3, minute)).await.expect("write");
        control.write_stats("a", &batch(4, minute)).await.expect("write again");
        control.write_stats("b", &batch(10, minute)).await.expect("write b");
        // Eight days ago: past the minutes' retention.
        let old = minute - 8 * 86_400;
        control.write_stats("a", &batch(7, old)).await.expect("old");
        let filter = StatsFilter { env: Some(Environment::Test), api: Some(5), range: StatsRange::Hour };
        let view = control.stats_as_of("petstore", filter, now, Retention::default()).await.expect("stats");
        assert_eq!(view.total_requests(), 14);
        let last = view.buckets.iter().find(|b| b.requests > 0).expect("a point");
        assert_eq!(last.start_unix, minute);
        let p50 = last.p50_ms.expect("p50");
        assert!((p50 - 2.0).abs() <= 0.02, "{p50}");

        // Roll-up of every hour still kept, then pruning: the old minute became an hour row,
        // then its minute row left; the week's chart still shows it (from the hour row).
        let upkeep = control.maintain_stats(old + 3_600, Retention::default(), true).await.expect("upkeep");
        assert!(upkeep.hours_written >= 1, "{upkeep:?}");
        let upkeep = control.maintain_stats(now, Retention::default(), true).await.expect("upkeep");
        assert!(upkeep.deleted >= 1, "{upkeep:?}");
        let week = StatsFilter { range: StatsRange::Week, ..filter };
        let short = Retention { minute_days: 7, hour_days: 90 };
        let view = control.stats_as_of("petstore", week, now + 86_400, short).await.expect("week");
        // The old hour is 9 days back at now + 1 day: outside a 7-day range; the recent
        // minute is inside it.
        assert_eq!(view.total_requests(), 14);
        let hours_only = Retention { minute_days: 0, hour_days: 90 };
        let upkeep = control.maintain_stats(now + 3_600, hours_only, false).await.expect("roll the last hours");
        assert!(upkeep.deleted >= 2, "minutes past a 0-day retention leave: {upkeep:?}");
        let view = control.stats_as_of("petstore", week, now + 3_600, hours_only).await.expect("from hours");
        assert_eq!(view.total_requests(), 14, "the hour row carries the minute's requests");
        // Hours past their retention leave too.
        let gone = Retention { minute_days: 0, hour_days: 0 };
        control.maintain_stats(now + 7_200, gone, false).await.expect("prune");
        let view = control.stats_as_of("petstore", week, now + 7_200, gone).await.expect("empty");
        assert_eq!(view.total_requests(), 0);
    }
}
