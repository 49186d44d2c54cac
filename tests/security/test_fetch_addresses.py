"""Which addresses outgoing requests may reach (pure: no network, no DNS for IP literals)."""

from __future__ import annotations

import ipaddress

import pytest

from distributor.adapters.safe_http import (
    AddressPolicy,
    UnsafeURLError,
    address_problem,
    check_url,
    parse_networks,
)

NOT_PUBLIC = {
    "127.0.0.1": "loopback",
    "127.0.0.2": "loopback",
    "::1": "loopback",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.1.2.3": "private",
    "2002:7f00:1::": "loopback",  # 6to4 wrapping 127.0.0.1
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.0.10": "private",
    "fd12:3456::1": "private",
    "169.254.169.254": "link-local",
    "fe80::1": "link-local",
    "224.0.0.251": "multicast",
    "ff02::1": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "100.64.0.1": "not a public",
    "192.0.2.10": "private",  # documentation range (TEST-NET-1)
}


@pytest.mark.parametrize(("address", "kind"), NOT_PUBLIC.items())
def test_internal_addresses_are_named(address: str, kind: str) -> None:
    problem = address_problem(ipaddress.ip_address(address))
    assert problem is not None
    assert kind in problem


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_a_policy_opens_only_the_networks_it_lists() -> None:
    policy = AddressPolicy(allowed_networks=parse_networks(" 10.1.2.0/24 , fd00::/8"))
    assert policy.problem(ipaddress.ip_address("10.1.2.200")) is None
    assert policy.problem(ipaddress.ip_address("fd00::5")) is None
    assert policy.problem(ipaddress.ip_address("10.1.3.1")) == "a private address"
    assert policy.problem(ipaddress.ip_address("127.0.0.1")) == "a loopback address"
    assert AddressPolicy(allow_private_addresses=True).problem(ipaddress.ip_address("::1")) is None


def test_check_url_names_the_field_the_address_and_the_remedy() -> None:
    with pytest.raises(UnsafeURLError) as refused:
        check_url("http://[::1]:8080/x", AddressPolicy(), what="--push-url")
    message = str(refused.value)
    assert message.startswith("--push-url 'http://[::1]:8080/x' is refused")
    assert "a loopback address" in message
    assert "FETCH_ALLOW_PRIVATE_ADDRESSES=true" in message
    with pytest.raises(UnsafeURLError, match="http:// or https://"):
        check_url("gopher://127.0.0.1/", AddressPolicy(allow_private_addresses=True))
    assert check_url(" http://[::1]/x ", AddressPolicy(allow_private_addresses=True)) == (
        "http://[::1]/x"
    )
