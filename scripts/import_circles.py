#!/usr/bin/env python3
"""Finds import circles between the files of each crate.

A file is a module (`src/a/b.rs` is `a::b`, `src/a/mod.rs` is `a`). Module `x` depends on
`y` when its non-test code names `crate::y…`, `super::…` resolving to `y`, or one of its
own child modules `y` by a relative path (`y::f`, `pub use y::T`); a name the crate root
re-exports counts as the module that defines it. So a `mod.rs` that re-exports its children
and a child that uses its parent's types make a circle too. The crate root (`lib.rs`,
`main.rs`) is the crate's table of contents and is left out. Any strongly connected set of
two or more modules is a circle: printed, and the exit status is 1.

    python3 scripts/import_circles.py            # every crate of the workspace
    python3 scripts/import_circles.py gateway    # one crate
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CRATES = ["domain", "gateway", "control", "app", "server"]
PATH = re.compile(r"\b(crate|super)((?:::\w+)+)")
GROUPED = re.compile(r"\b(crate|super)((?:::\w+)*)::\{([^;]*?)\}", re.S)
REEXPORT = re.compile(r"pub use (\w+)(?:::\w+)*::(?:\{([^}]*)\}|(\w+))\s*;")


def module_of(src: pathlib.Path, file: pathlib.Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def without_tests(text: str) -> str:
    """Drops `#[cfg(test)]` modules (they sit at the end of a file here)."""
    match = re.search(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{", text)
    return text[: match.start()] if match else text


def without_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def crate_graph(crate: str) -> dict:
    src = ROOT / crate / "src"
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(src, f): f for f in files}
    root_text = ""
    for name in ("lib.rs", "main.rs"):
        if (src / name).exists():
            root_text += (src / name).read_text()
    reexported = {}
    for first, group, single in REEXPORT.findall(root_text):
        for name in (group.split(",") if group else [single]):
            name = name.strip().split(" as ")[-1].strip()
            if name and (first,) in modules:
                reexported[name] = (first,)

    def resolve(segments: list) -> tuple:
        if segments and segments[0] in reexported and (segments[0],) not in modules:
            return reexported[segments[0]]
        best = ()
        for n in range(1, len(segments) + 1):
            if tuple(segments[:n]) in modules:
                best = tuple(segments[:n])
        return best

    graph = {m: set() for m in modules if m}
    for module, file in modules.items():
        if not module:
            continue
        text = without_comments(without_tests(file.read_text()))
        is_dir_module = file.name == "mod.rs"
        parent = module if is_dir_module else module[:-1]
        paths = []
        for kind, prefix, group in GROUPED.findall(text):
            for item in re.split(r",", group):
                item = item.strip().split(" as ")[0].strip()
                if item and not item.startswith("{"):
                    paths.append((kind, [p for p in prefix.split("::") if p] + item.split("::")))
        for kind, rest in PATH.findall(text):
            paths.append((kind, [p for p in rest.split("::") if p]))
        # Relative paths to this module's own children (`params::validate`, `pub use params::X`).
        children = {m[-1] for m in modules if m and len(m) == len(module) + 1 and m[:-1] == module}
        if is_dir_module and children:
            for head in re.findall(r"(?<![:\w])(\w+)::", text):
                if head in children:
                    graph[module].add(module + (head,))
        for kind, segments in paths:
            segments = [s for s in segments if s != "self"]
            if kind == "super":
                base = list(parent[:-1]) if is_dir_module else list(parent)
                # `super::super::x`
                while segments and segments[0] == "super":
                    base = base[:-1]
                    segments = segments[1:]
                segments = base + segments
            target = resolve(segments)
            if target and target != module:
                graph[module].add(target)
    return graph


def circles(graph: dict) -> list:
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    crates = sys.argv[1:] or CRATES
    status = 0
    for crate in crates:
        graph = crate_graph(crate)
        found = circles(graph)
        edges = sum(len(e) for e in graph.values())
        if not found:
            print(f"{crate}: {len(graph)} modules, {edges} dependencies, no circle")
        for component in found:
            status = 1
            names = ["::".join(m) for m in component]
            print(f"{crate}: circle between {', '.join(names)}")
            for m in component:
                inside = sorted("::".join(t) for t in graph[m] if t in component)
                print(f"  {'::'.join(m)} -> {', '.join(inside)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
