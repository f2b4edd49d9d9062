package io.dlm4j.etcd;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.Mutex;
import io.dlm4j.testkit.WithEtcd;
import io.dlm4j.testservers.EtcdCluster;
import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.auth.Permission;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.dlm4j.etcd.EtcdTestSupport.newKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Credentials in an etcd uri, against a real etcd with authentication on: a user whose role may
 * read and write the lock prefix only. The password has characters a uri must percent-encode.
 */
@WithEtcd(own = true)
class EtcdAuthTest {

    private static final String USER = "locker";
    private static final String PASSWORD = "s3cret pw+%/@:";
    private static final String ROOT_PASSWORD = "r00t-s3cret";
    private static final DlmOptions OPTIONS = DlmOptions.builder().operationTimeout(Duration.ofSeconds(3)).build();

    private static EtcdCluster etcd;
    private final List<Dlm> dlms = new ArrayList<>();

    @BeforeAll
    static void startServerWithAuth(EtcdCluster shared) throws Exception {
        etcd = shared;
        try (Client admin = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build()) {
            Auth auth = admin.getAuthClient();
            await(auth.userAdd(bytes("root"), bytes(ROOT_PASSWORD)));
            await(auth.roleAdd(bytes("root")));
            await(auth.userGrantRole(bytes("root"), bytes("root")));
            String prefix = EtcdDlm.DEFAULT_KEY_PREFIX;
            String prefixEnd = prefix.substring(0, prefix.length() - 1) + (char) (prefix.charAt(prefix.length() - 1) + 1);
            await(auth.roleAdd(bytes("locks")));
            await(auth.roleGrantPermission(bytes("locks"), bytes(prefix), bytes(prefixEnd), Permission.Type.READWRITE));
            await(auth.userAdd(bytes(USER), bytes(PASSWORD)));
            await(auth.userGrantRole(bytes(USER), bytes("locks")));
            await(auth.authEnable());
        }
    }

    @org.junit.jupiter.api.AfterEach
    void closeDlms() {
        dlms.forEach(Dlm::close);
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> future) throws Exception {
        return future.get(10, TimeUnit.SECONDS);
    }

    private static String encoded(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private Dlm dlm(String uri) {
        Dlm dlm = Dlms.fromUri(uri, OPTIONS);
        dlms.add(dlm);
        return dlm;
    }

    private static String hosts() {
        return String.join(",", etcd.endpoints()).replace("http://", "");
    }

    @Test
    void theUsersCredentialsFromTheUriAuthenticate() {
        Dlm dlm = dlm("etcd://" + USER + ":" + encoded(PASSWORD) + "@" + hosts());
        Mutex mutex = dlm.newMutex(newKey("auth"), Duration.ofSeconds(5));
        Lease lease = mutex.tryLock().orElseThrow(() -> new AssertionError("the user may write its prefix"));
        assertThat(lease.refresh()).isTrue();
        assertThat(mutex.holder()).isPresent();
        lease.close();
        assertThat(mutex.holder()).isEmpty();
        assertThat(dlm.toString()).doesNotContain(PASSWORD).doesNotContain(encoded(PASSWORD));
    }

    @Test
    void aWrongPasswordFailsWithoutShowingIt() {
        String wrong = "wr0ng-s3cret";
        Dlm dlm = dlm("etcd://" + USER + ":" + wrong + "@" + hosts());
        Throwable failure = catchThrowable(() -> dlm.newMutex(newKey("wrong"), Duration.ofSeconds(5)).tryLock());
        assertThat(failure).isInstanceOf(LockBackendException.class).hasMessageContaining(USER + "@");
        assertNoCredentialIn(failure, wrong);
    }

    @Test
    void noCredentialsAgainstAnEtcdThatNeedsThemFail() {
        Dlm dlm = dlm("etcd://" + hosts());
        assertThatThrownBy(() -> dlm.newMutex(newKey("anonymous"), Duration.ofSeconds(5)).tryLock())
                .isInstanceOf(LockBackendException.class);
    }

    @Test
    void aPrefixOutsideTheUsersRoleIsRefused() {
        Dlm dlm = dlm("etcd://" + USER + ":" + encoded(PASSWORD) + "@" + hosts() + "?prefix=elsewhere/");
        Throwable failure = catchThrowable(() -> dlm.newMutex(newKey("elsewhere"), Duration.ofSeconds(5)).tryLock());
        assertThat(failure).isInstanceOf(LockBackendException.class);
        assertNoCredentialIn(failure, PASSWORD);
    }

    @Test
    void aUriWithHalfOfTheCredentialsIsRefusedWithoutRepeatingThem() {
        for (String userInfo : List.of("lone-s3cret", "user:", ":pw-only-s3cret", "user:bad%zzs3cret")) {
            assertThatThrownBy(() -> Dlms.fromUri("etcd://" + userInfo + "@" + hosts(), OPTIONS))
                    .as(userInfo)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("user")
                    .hasMessageNotContaining("s3cret");
        }
    }

    private static void assertNoCredentialIn(Throwable failure, String password) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            assertThat(String.valueOf(t.getMessage())).as("message of %s", t.getClass().getName())
                    .doesNotContain(password).doesNotContain(encoded(password));
            assertThat(t.toString()).doesNotContain(password);
        }
    }
}
