"""Load graphtape into mitmproxy: ``mitmdump -s addon/graphtape/entry.py --set graphtape_mode=replay``.

Standalone (see GraphTape): loopback unless ``--listen-host`` is given, exit status 3 when the session fails.
"""

from graphtape.proxy.addon import GraphTape

addons = [GraphTape(standalone=True)]
