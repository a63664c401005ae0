export interface OutgoingMail {
  /** Stable per notification, so a resent mail is recognisable as the same one. */
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Sends one mail; resolves once the server accepted it, throws (SendFailed or any error) otherwise. */
export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
}
