/** CloudEvents `source` of every event the users service records. */
export const USERS_EVENT_SOURCE = 'conveyor/users';
