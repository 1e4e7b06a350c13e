"""Load graphtape into mitmproxy: ``mitmdump -s addon/graphtape/entry.py --set graphtape_mode=replay``."""

from graphtape.addon import GraphTape

addons = [GraphTape()]
