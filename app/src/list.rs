//! List pages' search, sort and paging, kept in the URL query (`?q=…&sort=…&dir=desc&page=2`)
//! so a reload, a shared link and the back button all show the same rows.
//!
//! - [`ListState`]: the query read from the URL, and the links and navigation that change it.
//! - [`SearchBox`], [`SortHeader`], [`Pager`]: the controls, each a labelled element.
//! - [`Listed`], [`arrange`] and [`page_of`]: search, sort and cut one page of a list the page
//!   loaded whole (the API List pages on the server instead, through `ApiQuery`).

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

/// Rows per page of a list loaded whole.
pub const PER_PAGE: usize = 20;

/// What a list shows: the search text, the sort column and direction, the page (1-based).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ListQuery {
    /// Part of what [`Listed::text`] returns, case-insensitive; empty for all.
    pub q: String,
    /// A column key the page knows; `None` for the page's own order.
    pub sort: Option<String>,
    /// Z to A, largest first.
    pub desc: bool,
    /// 1-based.
    pub page: u64,
}

impl ListQuery {
    /// Reads the URL query; a page that is not a positive number is the first.
    fn parse(map: &ParamsMap) -> ListQuery {
        ListQuery {
            q: map.get("q").unwrap_or_default(),
            sort: map.get("sort").filter(|s| !s.is_empty()),
            desc: map.get("dir").as_deref() == Some("desc"),
            page: map.get("page").and_then(|p| p.parse().ok()).filter(|p| *p >= 1).unwrap_or(1),
        }
    }

    /// This query as a link to `path`, leaving out what is the default.
    pub fn href(&self, path: &str) -> String {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            pairs.append_pair("q", &self.q);
        }
        if let Some(sort) = &self.sort {
            pairs.append_pair("sort", sort);
            if self.desc {
                pairs.append_pair("dir", "desc");
            }
        }
        if self.page > 1 {
            pairs.append_pair("page", &self.page.to_string());
        }
        let query = pairs.finish();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        }
    }
}

/// A list page's state in the URL.
#[derive(Clone, Copy)]
pub struct ListState {
    query: Memo<ListQuery>,
    path: Memo<String>,
    go: Callback<String>,
}

impl ListState {
    /// The state of the page being shown.
    pub fn from_url() -> ListState {
        let map = use_query_map();
        let location = use_location();
        let navigate = use_navigate();
        ListState {
            query: Memo::new(move |_| ListQuery::parse(&map.read())),
            path: Memo::new(move |_| location.pathname.get()),
            // A search replaces the history entry (one per keystroke would bury the page
            // before it); sorting and paging are links, one entry each.
            go: Callback::new(move |href: String| {
                navigate(&href, NavigateOptions { replace: true, scroll: false, ..Default::default() })
            }),
        }
    }

    /// The query (tracked).
    pub fn get(&self) -> ListQuery {
        self.query.get()
    }

    /// The query (untracked).
    pub fn get_untracked(&self) -> ListQuery {
        self.query.get_untracked()
    }

    /// Searches for `q` from the first page.
    pub fn search(&self, q: String) {
        let next = ListQuery { q, page: 1, ..self.query.get_untracked() };
        self.go.run(next.href(&self.path.get_untracked()));
    }

    /// The link that sorts by `column`: ascending first, then the other way.
    pub fn sort_href(&self, column: &str) -> String {
        let now = self.query.get();
        let desc = now.sort.as_deref() == Some(column) && !now.desc;
        ListQuery { sort: Some(column.to_owned()), desc, page: 1, ..now }.href(&self.path.get())
    }

    /// The link to page `page`.
    pub fn page_href(&self, page: u64) -> String {
        ListQuery { page, ..self.query.get() }.href(&self.path.get())
    }
}

/// The search field of a list: labelled "Search", filtering as one types.
#[component]
pub fn SearchBox(state: ListState, #[prop(into)] id: String, placeholder: &'static str) -> impl IntoView {
    view! {
        <div class="search">
            <label for=id.clone()>"Search"</label>
            <input
                id=id
                type="search"
                placeholder=placeholder
                prop:value=move || state.get().q
                on:input=move |ev| state.search(event_target_value(&ev))
            />
        </div>
    }
}

/// A column header that sorts the list when clicked, saying how it is sorted now.
#[component]
pub fn SortHeader(state: ListState, column: &'static str, label: &'static str) -> impl IntoView {
    let sorted = move || {
        let now = state.get();
        match (now.sort.as_deref() == Some(column), now.desc) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    };
    let arrow = move || match sorted() {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    };
    view! {
        <th aria-sort=sorted>
            <a class="sort" href=move || state.sort_href(column)>
                {label}
                <span aria-hidden="true">{arrow}</span>
            </a>
        </th>
    }
}

/// "Previous · Page 2 of 5 · 93 apps · Next", as links that keep the search and sort.
#[component]
pub fn Pager(state: ListState, page: u64, pages: u64, total: u64, noun: &'static str) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            {(page > 1).then(|| view! { <a href=move || state.page_href(page - 1)>"Previous"</a> })}
            <span>{format!("Page {page} of {pages} · {total} {noun}")}</span>
            {(page < pages).then(|| view! { <a href=move || state.page_href(page + 1)>"Next"</a> })}
        </nav>
    }
}

/// A value a list sorts by: text case-insensitively, numbers as numbers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    /// A number (counts, times as seconds).
    Number(i64),
    /// Text, lower-cased.
    Text(String),
}

impl SortKey {
    /// Text, compared case-insensitively.
    pub fn text(text: &str) -> SortKey {
        SortKey::Text(text.to_lowercase())
    }
}

/// A row of a list loaded whole.
pub trait Listed {
    /// What the search looks in.
    fn text(&self) -> String;
    /// The value of sort column `column`; `None` when the page has no such column.
    fn key(&self, column: &str) -> Option<SortKey>;
}

/// One page of a list, searched and sorted.
#[derive(Clone, Debug, PartialEq)]
pub struct Arranged<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// How many rows match in all.
    pub total: u64,
    /// This page (past the last one: the last one).
    pub page: u64,
    /// How many pages (at least 1).
    pub pages: u64,
}

/// Searches, sorts (stably: equal keys keep the page's order) and cuts one page.
pub fn arrange<T: Listed>(items: Vec<T>, query: &ListQuery) -> Arranged<T> {
    let needle = query.q.trim().to_lowercase();
    let mut rows: Vec<T> =
        items.into_iter().filter(|item| needle.is_empty() || item.text().to_lowercase().contains(&needle)).collect();
    if let Some(column) = &query.sort {
        rows.sort_by(|a, b| {
            let order = a.key(column).cmp(&b.key(column));
            if query.desc {
                order.reverse()
            } else {
                order
            }
        });
    }
    let total = rows.len() as u64;
    let pages = total.div_ceil(PER_PAGE as u64).max(1);
    let page = query.page.clamp(1, pages);
    let rows = rows.into_iter().skip((page as usize - 1) * PER_PAGE).take(PER_PAGE).collect();
    Arranged { rows, total, page, pages }
}

/// [`arrange`]d, or, when the search matches nothing, the empty state saying `nothing`
/// (the page returns it in place of the table).
pub fn page_of<T: Listed>(items: Vec<T>, query: &ListQuery, nothing: &'static str) -> Result<Arranged<T>, AnyView> {
    let shown = arrange(items, query);
    if shown.total == 0 {
        return Err(view! { <p class="empty">{nothing}</p> }.into_any());
    }
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Row(&'static str, i64);

    impl Listed for Row {
        fn text(&self) -> String {
            self.0.to_owned()
        }
        fn key(&self, column: &str) -> Option<SortKey> {
            match column {
                "name" => Some(SortKey::text(self.0)),
                "count" => Some(SortKey::Number(self.1)),
                _ => None,
            }
        }
    }

    fn query(q: &str, sort: Option<&str>, desc: bool, page: u64) -> ListQuery {
        ListQuery { q: q.into(), sort: sort.map(str::to_owned), desc, page }
    }

    #[test]
    fn search_sort_and_pages() {
        let rows = vec![Row("beta", 10), Row("Alpha", 2), Row("gamma", 30)];
        let by_name = arrange(rows.clone(), &query("", Some("name"), false, 1));
        assert_eq!(by_name.rows, [Row("Alpha", 2), Row("beta", 10), Row("gamma", 30)]);
        let by_count = arrange(rows.clone(), &query("", Some("count"), true, 1));
        assert_eq!(by_count.rows, [Row("gamma", 30), Row("beta", 10), Row("Alpha", 2)]);
        let found = arrange(rows.clone(), &query("ALP", None, false, 1));
        assert_eq!((found.rows, found.total), (vec![Row("Alpha", 2)], 1));
        assert_eq!(arrange(rows.clone(), &query("", Some("nope"), false, 1)).rows, rows, "unknown: page order");

        let many: Vec<Row> = (0..45).map(|i| Row("r", i)).collect();
        let third = arrange(many.clone(), &query("", None, false, 3));
        assert_eq!((third.rows.len(), third.page, third.pages, third.total), (5, 3, 3, 45));
        assert_eq!(arrange(many, &query("", None, false, 99)).page, 3, "past the end: the last page");
    }

    #[test]
    fn links_leave_out_defaults_and_escape_the_search() {
        assert_eq!(ListQuery { page: 1, ..Default::default() }.href("/apps"), "/apps");
        assert_eq!(query("a&b c", Some("name"), true, 2).href("/apps"), "/apps?q=a%26b+c&sort=name&dir=desc&page=2");
        let mut map = ParamsMap::new();
        map.insert("page", "-3".to_owned());
        map.insert("dir", "desc".to_owned());
        assert_eq!(ListQuery::parse(&map), ListQuery { page: 1, desc: true, ..Default::default() });
    }
}
