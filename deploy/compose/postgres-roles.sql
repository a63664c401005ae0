-- A login role per service (ADR 0026), made once when compose creates the database; laptop-only
-- passwords (the dev overlay's). The migration one-shots, run as the owner "conveyor", grant each
-- its own schema; each service then connects as its own role.
create role conveyor_users login password 'conveyor-users-dev-only';
create role conveyor_orders login password 'conveyor-orders-dev-only';
create role conveyor_notifications login password 'conveyor-notifications-dev-only';
