"""What the tests share, in one place (conftest.py files hold only fixtures; no test
module imports another).

Test doubles, each type-checked against the protocol it stands for:
    speaker, speaker_policy  FakeSpeaker: an in-memory gobgpd for the reconciler's units
    runtime                  fake_runtime: the API's runtime over FakeSpeakers
    rest_api                 FakeApi: a fake REST API for the CLI's tests, and its bodies
    rib                      a site's RIBs for the planner; AS paths from text
    probe_agent              FakeProbeAgent: a probe agent's control socket in process
Data and helpers:
    api, resources           the bootstrap token, a router; the generic CRUD suite's data
    identity                 users, projects, logins
    demo_site                the original demo's routers, site and uplinks via the API
    quality_world            two sites with probe agents beside their routers, a class
    revisions                a router with one object of each kind; the revision log's reads
    store                    rows straight into the store; waiting for its writer
    waits                    polling to a deadline, in process or against a server
    backends                 SQLite and PostgreSQL: which a test runs on
Real parts:
    lab, policy_lab, replica_lab   labs of namespaces and gobgpd; replicas on PostgreSQL
    event_stream             an SSE reader of a real `sdwan serve`
    keystone                 a real Keystone and the settings of an API that uses it
    dashboard                the dashboard in Chromium (Playwright)
"""
