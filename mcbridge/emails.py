"""One definition of what an email address is, shared by forms, the CSV importer and models.

Mailchimp identifies a contact by the MD5 of the lowercased address, so mcbridge stores
every address already lowercased and trimmed: equal addresses are then equal strings, in
Python and in SQL alike (SQLite's lower() only folds ASCII).
"""

from email_validator import EmailNotValidError, validate_email

from mcbridge.messages import email_problem_text


def normalize_email(value: str | None) -> str | None:
    """Trimmed, lowercased address, or None for an empty value."""
    if value is None:
        return None
    cleaned = value.strip().lower()
    return cleaned or None


def email_problem(value: str) -> str | None:
    """Why an address is unusable (email-validator's reason, in the reader's language), or
    None when it is fine.

    Deliverability (DNS) is not checked: the machine may be offline and Mailchimp makes its
    own judgement when the address is exported.
    """
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        return email_problem_text(str(error))
    return None
