//! The one place the host binds `wit/`: contract 0.1.0 (`wit/plugin.wit`) here and
//! contract 0.2.0 (`wit/v0.2/plugin.wit`) in [`v02`].
//!
//! The `host` world carries every import interface; each plugin world maps
//! those interfaces onto it with `with`, so there is one set of host traits per
//! contract version (and `state_v02.rs` implements 0.2's by converting to 0.1's).

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

/// Contract `sightline:plugin@0.2.0`: every world exports one versioned interface
/// (`sightline:plugin/exporter@0.2.0`, ...), which is how a component's version is told
/// apart from 0.1's bare function exports.
pub(crate) mod v02 {
    pub(crate) mod host_world {
        wasmtime::component::bindgen!({
            path: "../../wit/v0.2",
            world: "host",
            imports: { default: async },
        });
    }

    pub(crate) mod exporter {
        wasmtime::component::bindgen!({
            path: "../../wit/v0.2",
            world: "exporter-plugin",
            imports: { default: async },
            exports: { default: async },
            with: { "sightline:plugin": super::host_world::sightline::plugin },
        });
    }

    pub(crate) mod receiver {
        wasmtime::component::bindgen!({
            path: "../../wit/v0.2",
            world: "receiver-plugin",
            imports: { default: async },
            exports: { default: async },
            with: { "sightline:plugin": super::host_world::sightline::plugin },
        });
    }

    pub(crate) mod query_function {
        wasmtime::component::bindgen!({
            path: "../../wit/v0.2",
            world: "query-function-plugin",
            imports: { default: async },
            exports: { default: async },
            with: { "sightline:plugin": super::host_world::sightline::plugin },
        });
    }

    pub(crate) mod dashboard {
        wasmtime::component::bindgen!({
            path: "../../wit/v0.2",
            world: "dashboard-plugin",
            imports: { default: async },
            exports: { default: async },
            with: { "sightline:plugin": super::host_world::sightline::plugin },
        });
    }

    pub(crate) use host_world::sightline::plugin as wit;
}
