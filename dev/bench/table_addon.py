"""``mitmdump -s table_addon.py``: mitmdump with graphtape's dispatch table (graphtape/proxy/dispatch.py).

The replay section runs ``--server-replay`` with it beside the stock one: graphtape replay against mitmproxy's own
replay on the same footing, so the table's share of graphtape's margin shows apart from graphtape's own work.
"""

from __future__ import annotations

from mitmproxy import ctx

from graphtape.proxy.dispatch import HookTable, install

INSTALLED = "graphtape bench: dispatch table installed"  # the bench checks the proxy printed it


class Table:
    def load(self, loader: object) -> None:
        install(ctx.master)
        if isinstance(ctx.master.addons, HookTable):
            print(INSTALLED, flush=True)


addons = [Table()]
