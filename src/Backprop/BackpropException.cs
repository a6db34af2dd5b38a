namespace Backprop;

/// <summary>
/// The error Backprop raises for problems a user can fix: a malformed file, a bad option, a network
/// that does not fit its data. Its <see cref="Exception.Message"/> is one line written for people.
/// </summary>
public class BackpropException : Exception
{
    /// <summary>Creates the error with a one-line message for people.</summary>
    public BackpropException(string message) : base(message) { }

    /// <summary>Creates the error with a one-line message and the error that caused it.</summary>
    public BackpropException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the error with a generic message.</summary>
    public BackpropException() { }
}
