"""A live conformance check: the Mailchimp behaviours the notes mark [UNVERIFIED], probed
against the real Mailchimp and a fresh sandbox side by side.

    MAILCHIMP_LIVE_KEY=… MAILCHIMP_LIVE_AUDIENCE=… make check-live

Never run by CI (no machine there reaches Mailchimp): it is how a person with a key and a
throwaway audience finds out where the sandbox, and so the tests, are wrong.
"""
