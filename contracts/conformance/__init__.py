"""The conformance suite: pytest modules that judge any Wesog server against `openapi.yaml`.

    pytest --pyargs contracts.conformance --wesog-base-url URL --wesog-api-key KEY
    pytest --pyargs contracts.conformance --wesog-app wesog_mock:create_app

or `wesog-contracts --base-url URL --api-key KEY` for the summary alone. The tests are thin:
the work is in `contracts.checks`, `contracts.model`, `contracts.statemachine` and
`contracts.client`, which import no pytest.
"""
