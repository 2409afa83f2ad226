"""The source contract (metrics.md section 1): every table and column the pack reads.

`zorina-db apply` checks these exist before it changes anything. Types are not checked here:
the SQL accepts either timestamp type and text or enum statuses by design.
"""

SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations": ("id", "name", "settings"),
    "locations": ("id", "organization_id", "name"),
    "square_existing_clients": (
        "organization_id", "square_customer_id", "given_name", "family_name", "email_address",
        "phone_number", "created_at", "updated_at", "activated_as_referrer", "personal_code",
        "referral_code", "used_referral_code", "creation_source", "acquisition_source",
    ),
    "bookings": (
        "id", "organization_id", "booking_id", "customer_id", "location_id", "technician_id",
        "service_variation_id", "start_at", "status", "duration_minutes", "customer_note",
        "seller_note", "created_at", "updated_at",
    ),
    "payments": (
        "id", "organization_id", "payment_id", "customer_id", "booking_id", "location_id",
        "amount_money_amount", "tip_money_amount", "total_money_amount", "status", "created_at",
        "updated_at",
    ),
    "referral_profiles": (
        "organization_id", "square_customer_id", "personal_code", "referral_code", "activated_at",
    ),
    "referral_rewards": (
        "id", "organization_id", "referrer_customer_id", "referred_customer_id",
        "reward_amount_cents", "status", "created_at",
    ),
    "application_logs": (
        "id", "organization_id", "log_type", "log_id", "status", "payload", "created_at",
        "updated_at",
    ),
}


def missing_columns(conn) -> list[str]:
    """`table.column` for every contract column not visible on the connection's search_path."""
    rows = conn.execute(
        """
        SELECT c.relname, a.attname
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p', 'v', 'f')
           AND c.relnamespace = ANY (SELECT oid FROM pg_catalog.pg_namespace
                                      WHERE nspname = ANY (pg_catalog.current_schemas(false)))
        """
    ).fetchall()
    present = {(table, column) for table, column in rows}
    return [f"{table}.{column}" for table, columns in SOURCE_COLUMNS.items()
            for column in columns if (table, column) not in present]
