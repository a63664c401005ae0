/** Contact details sealed into user.created v2, opened by the users service. */
export interface PersonalDataRevealer {
  /**
   * 'erased' when the user's key is gone (nothing may be sent to them).
   * Throws RetryLater while users cannot answer, PoisonMessageError when the
   * sealed value can never be opened.
   */
  reveal(
    userId: string,
    sealed: string,
  ): Promise<{ email: string; name: string; resetToken?: string } | 'erased'>;
}
