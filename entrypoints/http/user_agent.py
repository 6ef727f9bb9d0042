"""A short, human summary of a User-Agent header ("Chrome on Linux"), for the list of sessions."""

from __future__ import annotations

MAX_SUMMARY = 60
BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
"""Order matters: Edge and Opera also say Chrome, Chrome also says Safari."""
SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iOS"), ("Windows", "Windows"), ("Mac OS X", "macOS"),
           ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def summarize(user_agent: str | None) -> str:
    """"Firefox on Windows" for a browser; else the product token ("curl/8.5.0"), cut short;
    printable ASCII only, since it is shown back to the person."""
    if not user_agent:
        return ""
    browser = next((name for token, name in BROWSERS if token in user_agent), None)
    system = next((name for token, name in SYSTEMS if token in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or system
    first = user_agent.split(" ", 1)[0]
    return "".join(char for char in first if " " <= char <= "~")[:MAX_SUMMARY]
