//! The one place the host binds `wit/`.
//!
//! The `host` world carries every import interface; each plugin world maps
//! those interfaces onto it with `with`, so there is one set of host traits.

#![allow(missing_docs, unreachable_pub, clippy::all)]

pub(crate) mod host_world {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "host",
        imports: { default: async },
    });
}

pub(crate) mod exporter {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "exporter",
        imports: { default: async },
        exports: { default: async },
        with: { "sightline:plugin": super::host_world::sightline::plugin },
    });
}

pub(crate) mod receiver {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "receiver",
        imports: { default: async },
        exports: { default: async },
        with: { "sightline:plugin": super::host_world::sightline::plugin },
    });
}

pub(crate) mod query_function {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "query-function",
        imports: { default: async },
        exports: { default: async },
        with: { "sightline:plugin": super::host_world::sightline::plugin },
    });
}

pub(crate) mod dashboard {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "dashboard",
        imports: { default: async },
        exports: { default: async },
        with: { "sightline:plugin": super::host_world::sightline::plugin },
    });
}

pub(crate) use host_world::sightline::plugin as wit;
